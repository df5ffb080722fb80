/**
 * `regcred`: create registry secrets, export them, and see where they are used, with the user's own
 * kubeconfig credentials. One module per command under commands/; this module only dispatches
 * (main.ts is the executable).
 */
import { ApiException } from "@kubernetes/client-node";
import { apiFailure, CliError, formatFailure } from "./apiError.js";
import { commandHelp, EXIT, GLOBAL_OPTIONS, parseCommand, splitCommand, UsageError, wantsHelp } from "./args.js";
import type { Command, CommandContext, CommandIo } from "./command.js";
import { check } from "./commands/check.js";
import { create } from "./commands/create.js";
import { exportCommand, unexportCommand } from "./commands/export.js";
import { list } from "./commands/list.js";
import { optin, optout } from "./commands/optin.js";
import { status } from "./commands/status.js";
import { ui } from "./commands/ui.js";
import { why } from "./commands/why.js";
import { connect } from "./kube.js";

export const COMMANDS: readonly Command[] = [create, exportCommand, unexportCommand, list, status, check, why, optin, optout, ui];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "regcred — registry credentials for Kubernetes namespaces, from your terminal",
    "",
    "Usage: regcred COMMAND [ARGS] [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    "",
    "Global flags:",
    ...Object.entries(GLOBAL_OPTIONS).map(([name, o]) => `  ${`${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`.padEnd(34)} ${o.help}`),
    "",
    "Everything is done with your kubeconfig's credentials: Kubernetes RBAC decides what you may do.",
    "",
    "Exit codes: 0 done; 1 the API server refused, the object does not exist or the cluster cannot be",
    "reached; 2 bad flags or input (nothing was sent); check: 3 writable, 4 could not tell.",
    "",
    "Run 'regcred COMMAND --help' for a command's flags and examples.",
    "",
  ].join("\n");
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CommandIo, stopped: Promise<void> = new Promise(() => undefined)): Promise<number> {
  const { command: name, rest } = splitCommand(argv);
  if (name === undefined || name === "help") {
    const topic = name === "help" ? splitCommand(rest).command : undefined;
    const cmd = COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && !cmd) {
      io.err(`error: unknown command "${safeName(topic)}"\n${mainHelp()}`);
      return EXIT.usage;
    }
    if (name === undefined && !wantsHelp(rest) && rest.length > 0) {
      io.err(`error: no command given\n\n${mainHelp()}`);
      return EXIT.usage;
    }
    const text = cmd ? commandHelp(cmd) : mainHelp();
    if (name === undefined && rest.length === 0) io.err(text);
    else io.out(text);
    return name === undefined && rest.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`error: unknown command "${safeName(name)}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})\n`);
    return EXIT.usage;
  }
  if (wantsHelp(rest)) {
    io.out(commandHelp(cmd));
    return EXIT.ok;
  }
  try {
    const args = parseCommand(cmd, rest);
    const ctx: CommandContext = {
      io,
      stopped,
      connect: () => connect({ kubeconfig: args.kubeconfig, context: args.context }),
      namespace: (conn) => args.namespace ?? conn.defaultNamespace,
    };
    return await cmd.run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\nRun 'regcred ${cmd.name} --help' for usage.\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      io.err(`${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ApiException) {
      io.err(`${formatFailure(apiFailure(err))}\n`);
      return EXIT.failed;
    }
    io.err(`${formatFailure(apiFailure(err))}\n`);
    return EXIT.failed;
  }
}

// A command name as typed, for a message: short, and printable.
function safeName(name: string): string {
  return name.slice(0, 40).replace(/[^\x20-\x7e]/g, "?");
}
