/** `regcred export NAME -n NS [--to-namespaces …] [--selector …] [--eager]` and `regcred unexport NAME -n NS`. */
import { EXIT, type ParsedCommand, secretNameArgument } from "../args.js";
import { printWarnings, type Command, type CommandContext } from "../command.js";
import { exportSecret, unexportSecret } from "../operations.js";
import { renderStructured } from "../output.js";
import { exportRequestFrom } from "./create.js";

export const exportCommand: Command = {
  name: "export",
  summary: "export a registry secret to other namespaces (creates or changes its PullSecretExport)",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {
    "to-namespaces": { type: "string", value: "NS,...|*", help: "the namespaces it may go to, or \"*\" for all (default \"*\", or the selector's matches)" },
    selector: { type: "string", short: "l", value: "SELECTOR", help: "only namespaces whose labels match (kubectl -l syntax, e.g. team=a,env in (prod))" },
    eager: { type: "boolean", help: "copy into every eligible namespace now, not when a pod needs it" },
  },
  details: `Only namespaces that opted in (regcred optin NS) receive copies. "*" is allowed only from the
namespaces regcred is configured to allow (exports.allowedSourceNamespaces). Running it again on an
exported secret replaces its targets and provisioning, and keeps the rest of its spec.

Examples:
  regcred export harbor-ro -n registry-creds
  regcred export harbor-ro -n registry-creds --to-namespaces team-a,team-b --eager
  regcred export harbor-ro -n registry-creds --selector 'tier in (prod,staging)'`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const name = secretNameArgument(args);
    const req = exportRequestFrom(args, "export");
    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const result = await exportSecret(conn.clients, namespace, name, req);
    printWarnings(ctx.io, result.warnings);
    if (args.output === "table") for (const line of result.done) ctx.io.out(`${line}\n`);
    else ctx.io.out(renderStructured({ namespace, name, done: result.done, warnings: result.warnings }, args.output));
    return EXIT.ok;
  },
};

export const unexportCommand: Command = {
  name: "unexport",
  summary: "stop exporting a registry secret (deletes its PullSecretExport; regcred revokes the copies)",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {},
  details: `The secret itself stays. Copies are deleted by regcred's controller (or left, when the export
says onRevoke: Orphan); regcred status NAME shows them go.`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const name = secretNameArgument(args);
    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const result = await unexportSecret(conn.clients, namespace, name);
    if (args.output === "table") for (const line of result.done) ctx.io.out(`${line}\n`);
    else ctx.io.out(renderStructured({ namespace, name, done: result.done }, args.output));
    return EXIT.ok;
  },
};
