/**
 * The CLI's argument parsing: node:util parseArgs with kubectl's conventions on top. Global flags
 * (`--kubeconfig`, `--context`, `-n`, `-A`, `-o`, `-h`) may come before or after the command.
 *
 * Messages never repeat an argument's value: a mistyped flag could be followed by a password.
 */
import { parseArgs } from "node:util";

export type OutputFormat = "table" | "json" | "yaml";

/** Exit codes scripts can rely on (also in `regcred --help`). */
export const EXIT = {
  ok: 0,
  /** The API server refused, the object does not exist, or the cluster cannot be reached. */
  failed: 1,
  /** Bad flags, arguments or input: nothing was sent to the cluster. */
  usage: 2,
  /** `check`: the credentials can write to a registry. */
  writable: 3,
  /** `check`: whether they can write could not be found out. */
  unknown: 4,
} as const;

export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Shown in the help, e.g. `URL`. */
  value?: string;
  help: string;
}

export type GlobalFlag = "namespace" | "allNamespaces" | "output";

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, in order, e.g. ["NAME"]. All are required. */
  positionals: string[];
  /** Which of -n, -A, -o the command takes (--kubeconfig, --context and --help always). */
  globals: GlobalFlag[];
  options: Record<string, OptionSpec>;
  /** Examples and notes for `--help`. */
  details?: string;
}

export interface ParsedCommand {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  output: OutputFormat;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  kubeconfig: { type: "string", value: "FILE", help: "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)" },
  context: { type: "string", value: "NAME", help: "kubeconfig context to use (default: its current context)" },
  namespace: { type: "string", short: "n", value: "NS", help: "namespace (default: the context's namespace, else \"default\")" },
  "all-namespaces": { type: "boolean", short: "A", help: "every namespace the user can read" },
  output: { type: "string", short: "o", value: "FORMAT", help: "table (default), json or yaml" },
  help: { type: "boolean", short: "h", help: "show help" },
};

const GLOBAL_FLAG_OF: Record<string, GlobalFlag | undefined> = {
  namespace: "namespace", "all-namespaces": "allNamespaces", output: "output",
};

type ParseArgsOptions = Record<string, { type: "string" | "boolean"; short?: string }>;

function toParseArgs(options: Record<string, OptionSpec>): ParseArgsOptions {
  return Object.fromEntries(Object.entries(options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]));
}

/**
 * Finds the command: the first argument that is neither a flag nor the value of a global flag.
 * Returns the remaining arguments with the command taken out.
 */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS)) {
    if (o.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return { command: argv[i + 1], rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    if (takesValue.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith("-")) continue;
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}

/** Whether the arguments ask for help (before any strict parsing, so `--help` works with bad flags). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

/** Parses a command's arguments strictly: unknown flags, missing values and extra arguments are UsageErrors. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const allowedGlobals = Object.fromEntries(Object.entries(GLOBAL_OPTIONS).filter(([name]) => {
    const flag = GLOBAL_FLAG_OF[name];
    return flag === undefined || spec.globals.includes(flag);
  }));
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: ParseArgsOptions; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...toParseArgs(allowedGlobals), ...toParseArgs(spec.options) },
      strict: true,
      allowPositionals: true,
      allowNegative: false,
    });
  } catch (err) {
    throw new UsageError(describeParseError(err, spec));
  }
  const { values, positionals } = parsed;
  if (positionals.length < spec.positionals.length) {
    const missing = spec.positionals.slice(positionals.length).join(" ");
    throw new UsageError(`${spec.name}: missing ${missing}`);
  }
  if (positionals.length > spec.positionals.length) {
    // The extra argument itself is not repeated: it could be a password typed in the wrong place.
    const takes = spec.positionals.length === 0 ? "takes no arguments" : `takes ${spec.positionals.join(" ")} only`;
    throw new UsageError(`${spec.name} ${takes}, but ${positionals.length} were given`);
  }
  const output = values.output;
  if (output !== undefined && output !== "table" && output !== "json" && output !== "yaml") {
    throw new UsageError(`${spec.name}: --output must be table, json or yaml`);
  }
  const namespace = values.namespace;
  if (typeof namespace === "string" && namespace === "") throw new UsageError(`${spec.name}: --namespace must not be empty`);
  const result: ParsedCommand = {
    positionals,
    values: values,
    allNamespaces: values["all-namespaces"] === true,
    output: (output ?? "table"),
  };
  if (typeof values.kubeconfig === "string") result.kubeconfig = values.kubeconfig;
  if (typeof values.context === "string") result.context = values.context;
  if (typeof namespace === "string") result.namespace = namespace;
  if (result.allNamespaces && result.namespace !== undefined) {
    throw new UsageError(`${spec.name}: use either --namespace or --all-namespaces, not both`);
  }
  return result;
}

// parseArgs messages name the flag and sometimes quote the offending argument; rebuild them from
// the error code and the flag name only.
function describeParseError(err: unknown, spec: CommandSpec): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : "";
  const flag = /'(-{1,2}[A-Za-z0-9-]+)/.exec(message)?.[1];
  const where = flag ?? "an option";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `${spec.name}: unknown flag ${where} (see regcred ${spec.name} --help)`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (message.includes("argument missing") || message.includes("ambiguous")) {
        return `${spec.name}: ${where} needs a value (write --flag=VALUE for a value that starts with "-")`;
      }
      return `${spec.name}: ${where} does not take a value`;
    default:
      return `${spec.name}: the arguments cannot be read (see regcred ${spec.name} --help)`;
  }
}

/** A comma-separated list flag: trimmed, no empty entries. */
export function listValue(value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== "string") return undefined;
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

export function stringValue(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

// RFC 1123 names, as Kubernetes checks them.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Secret or export name (DNS-1123 subdomain). */
export function validateObjectName(what: string, name: string): void {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new UsageError(`${what} must be a lowercase DNS name (letters, digits, "-" and "."; at most 253 characters)`);
  }
}

/**
 * The NAME positional of a command that acts on one secret, checked along with --namespace when
 * given, before anything is sent.
 */
export function secretNameArgument(args: ParsedCommand): string {
  const name = args.positionals[0] ?? "";
  validateObjectName("NAME", name);
  if (args.namespace !== undefined) validateNamespaceName("--namespace", args.namespace);
  return name;
}

/** A namespace name (DNS-1123 label). */
export function validateNamespaceName(what: string, name: string): void {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new UsageError(`${what} must be a namespace name (lowercase letters, digits and "-"; at most 63 characters)`);
  }
}

/** Help text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`regcred ${spec.name} — ${spec.summary}`, "", `Usage: regcred ${spec.name}${spec.positionals.map((p) => ` ${p}`).join("")} [flags]`];
  const own = Object.entries(spec.options);
  if (own.length > 0) {
    lines.push("", "Flags:");
    for (const [name, o] of own) lines.push(formatOption(name, o));
  }
  lines.push("", "Global flags:");
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS)) {
    const flag = GLOBAL_FLAG_OF[name];
    if (flag !== undefined && !spec.globals.includes(flag)) continue;
    lines.push(formatOption(name, o));
  }
  if (spec.details) lines.push("", spec.details.trimEnd());
  return `${lines.join("\n")}\n`;
}

function formatOption(name: string, o: OptionSpec): string {
  const head = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;
  return `  ${head.padEnd(34)} ${o.help}`;
}
