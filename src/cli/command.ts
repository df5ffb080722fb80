/** What every command module exports, and what it is given to run. */
import type { CommandSpec, ParsedCommand } from "./args.js";
import type { Connection } from "./kube.js";

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /** The whole of standard input, as text (for --password-stdin). */
  readStdin(): Promise<string>;
  /** Whether standard input is a terminal. */
  stdinIsTty: boolean;
}

export interface CommandContext {
  io: CommandIo;
  /** Connects with --kubeconfig/--context; throws UsageError when no cluster is configured. */
  connect(): Connection;
  /** -n, else the context's namespace, else "default". */
  namespace(conn: Connection): string;
  /** Ends when the process is asked to stop (SIGINT, SIGTERM): long-running commands wait on it. */
  stopped: Promise<void>;
}

export interface Command extends CommandSpec {
  run(ctx: CommandContext, args: ParsedCommand): Promise<number>;
}

/** Warnings from the API server, printed as kubectl prints them. */
export function printWarnings(io: CommandIo, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`Warning: ${w}\n`);
}
