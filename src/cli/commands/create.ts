/** `regcred create NAME -n NS --server URL --username U (--password-stdin | --password-file F) [--export ...]` */
import { readFile } from "node:fs/promises";
import { EXIT, listValue, stringValue, UsageError, validateNamespaceName, type ParsedCommand, secretNameArgument } from "../args.js";
import { printWarnings, type Command, type CommandContext } from "../command.js";
import { parseLabelSelector } from "../labelSelector.js";
import { createRegistrySecret, type ExportRequest } from "../operations.js";
import { renderStructured } from "../output.js";
import { registryKeyFor, validateLogin, type RegistryLogin } from "../registrySecret.js";

export const create: Command = {
  name: "create",
  summary: "create a registry secret (kubernetes.io/dockerconfigjson), and optionally export it",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {
    server: { type: "string", value: "URL", help: "the registry, e.g. harbor.example.com or registry.example.com:5000/team (Docker Hub: docker.io)" },
    username: { type: "string", value: "USER", help: "the registry user name (a pull-only robot account or token)" },
    "password-stdin": { type: "boolean", help: "read the password from standard input (one line)" },
    "password-file": { type: "string", value: "FILE", help: "read the password from a file (one line)" },
    "insecure-password": { type: "string", value: "PASSWORD", help: "the password as an argument: visible in shell history and to other users; prefer the two above" },
    password: { type: "string", value: "PASSWORD", help: "refused: use --password-stdin or --password-file" },
    email: { type: "string", value: "EMAIL", help: "e-mail stored with the credentials (some old registries want one)" },
    "declare-read-only": { type: "boolean", help: "annotate the secret regcred.dev/access=read-only (your word that it cannot push)" },
    export: { type: "boolean", help: "also export it (a PullSecretExport), to every namespace unless --to-namespaces or --selector" },
    "to-namespaces": { type: "string", value: "NS,...|*", help: "with --export: the namespaces it may go to, or \"*\" for all" },
    selector: { type: "string", short: "l", value: "SELECTOR", help: "with --export: only namespaces whose labels match (kubectl -l syntax)" },
    eager: { type: "boolean", help: "with --export: copy into every eligible namespace now, not when a pod needs it" },
    "dry-run": { type: "boolean", help: "ask the API server (and regcred's webhooks) without storing anything" },
  },
  details: `The password is never printed, and never taken as a plain argument unless you insist with
--insecure-password (which warns). Nothing regcred prints contains it.

Examples:
  # read the password from a password manager, export to every opted-in namespace
  pass show harbor/robot | regcred create harbor-ro -n registry-creds \\
      --server harbor.example.com --username 'robot$puller' --password-stdin --export
  # only to two namespaces, copies made at once
  regcred create ghcr-ro -n registry-creds --server ghcr.io --username bot \\
      --password-file ./token --export --to-namespaces team-a,team-b --eager`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const v = args.values;
    const name = secretNameArgument(args);
    if (v.password !== undefined) {
      throw new UsageError("create: --password is refused: a password on the command line is kept in shell history and visible to other users; use --password-stdin or --password-file (or --insecure-password if you insist)");
    }
    const server = stringValue(v.server);
    if (server === undefined) throw new UsageError("create: --server is required (the registry, e.g. harbor.example.com)");
    registryKeyFor(server);
    const username = stringValue(v.username);
    if (username === undefined) throw new UsageError("create: --username is required");
    const exportRequest = exportOptions(args);

    const sources = [v["password-stdin"] === true, v["password-file"] !== undefined, v["insecure-password"] !== undefined].filter(Boolean).length;
    if (sources === 0) throw new UsageError("create: no password given: pass --password-stdin (and pipe it in) or --password-file FILE");
    if (sources > 1) throw new UsageError("create: give the password one way only: --password-stdin, --password-file or --insecure-password");
    let password: string;
    if (v["password-stdin"] === true) {
      if (ctx.io.stdinIsTty) ctx.io.err("Reading the password from standard input (end with Ctrl-D)...\n");
      password = oneLine(await ctx.io.readStdin());
      if (password === "") throw new UsageError("create: --password-stdin: standard input was empty");
    } else if (typeof v["password-file"] === "string") {
      const file = v["password-file"];
      try {
        password = oneLine(await readFile(file, "utf8"));
      } catch (err) {
        throw new UsageError(`create: --password-file ${file} cannot be read (${(err as { code?: string }).code ?? "error"})`);
      }
      if (password === "") throw new UsageError(`create: --password-file ${file} is empty`);
    } else {
      ctx.io.err("Warning: --insecure-password puts the password in your shell history and in the process list, where other users can read it; use --password-stdin or --password-file.\n");
      password = stringValue(v["insecure-password"]) ?? "";
    }
    const email = stringValue(v.email);
    const login: RegistryLogin = { server, username, password, ...(email ? { email } : {}) };
    validateLogin(login);

    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const result = await createRegistrySecret(conn.clients, {
      namespace, name, login, declareReadOnly: v["declare-read-only"] === true, export: exportRequest, dryRun: v["dry-run"] === true,
    });
    printWarnings(ctx.io, result.warnings);
    if (args.output === "table") {
      for (const line of result.done) ctx.io.out(`${line}\n`);
    } else {
      ctx.io.out(renderStructured({
        namespace, name, registry: registryKeyFor(server), username,
        exported: exportRequest !== undefined, done: result.done, warnings: result.warnings,
      }, args.output));
    }
    return EXIT.ok;
  },
};

/** The export flags of create and export: --to-namespaces, --selector, --eager. */
export function exportRequestFrom(args: ParsedCommand, command: string): ExportRequest {
  const req: ExportRequest = {};
  const to = args.values["to-namespaces"];
  if (to !== undefined) {
    const list = listValue(to) ?? [];
    if (list.length === 0) throw new UsageError(`${command}: --to-namespaces is empty; list namespaces, or "*" for all`);
    if (list.includes("*") && list.length > 1) throw new UsageError(`${command}: --to-namespaces "*" already means every namespace; give "*" alone`);
    for (const ns of list) if (ns !== "*") validateNamespaceName("--to-namespaces", ns);
    req.toNamespaces = list;
  }
  const selector = stringValue(args.values.selector);
  if (selector !== undefined) req.namespaceSelector = parseLabelSelector(selector);
  if (args.values.eager === true) req.eager = true;
  return req;
}

function exportOptions(args: ParsedCommand): ExportRequest | undefined {
  const v = args.values;
  if (v.export !== true) {
    const stray = ["to-namespaces", "selector", "eager"].find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`create: --${stray} only applies with --export`);
    return undefined;
  }
  return exportRequestFrom(args, "create");
}

/** A password read from stdin or a file: one line; the newline at its end (\n or \r\n) is not part of it. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n$/, "");
}
