/** `regcred list [-n NS | -A]`: registry secrets with their exports. */
import { apiCliError, isForbidden } from "../apiError.js";
import { EXIT, validateNamespaceName, type ParsedCommand } from "../args.js";
import { printWarnings, type Command, type CommandContext } from "../command.js";
import { listRegistrySecrets, type SecretRow } from "../operations.js";
import { age, renderStructured, renderTable, type Column } from "../output.js";

const FALLBACK_REFUSED = "regcred list -A reads namespace by namespace when it may not list cluster-wide, but the namespaces could not be listed either "
  + "(that needs permission to list namespaces); list one namespace you can read with -n NAMESPACE";

export const list: Command = {
  name: "list",
  summary: "list registry secrets: registries, where they are exported to, access verdict, copies, readiness",
  positionals: [],
  globals: ["namespace", "allNamespaces", "output"],
  options: {},
  details: `Lists Secrets of type kubernetes.io/dockerconfigjson (and the legacy dockercfg), exported or not,
and exports whose secret is missing; regcred's own copies are not listed (see regcred status NAME).
With -A, namespaces you may not read are skipped and named on standard error.

Examples:
  regcred list -n registry-creds
  regcred list -A -o json`,

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    if (args.namespace !== undefined) validateNamespaceName("--namespace", args.namespace);
    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const result = await listRegistrySecrets(conn.clients, args.allNamespaces ? { allNamespaces: true } : { namespace }).catch((err: unknown) => {
      // -A falls back to namespace by namespace on a cluster-wide 403; this one came back because
      // the namespaces could not be listed: say so, or the refusal reads as if -A never falls back.
      if (args.allNamespaces && isForbidden(err)) throw apiCliError(err, [], `\n${FALLBACK_REFUSED}`);
      throw err;
    });
    printWarnings(ctx.io, result.warnings);
    if (args.output !== "table") {
      ctx.io.out(renderStructured({ items: result.rows, warnings: result.warnings }, args.output));
      return EXIT.ok;
    }
    if (result.rows.length === 0) {
      ctx.io.err(args.allNamespaces ? "No registry secrets found.\n" : `No registry secrets found in ${namespace} namespace.\n`);
      return EXIT.ok;
    }
    ctx.io.out(renderTable(result.rows, secretColumns(args.allNamespaces)));
    return EXIT.ok;
  },
};

export function secretColumns(withNamespace: boolean, now = Date.now()): Column<SecretRow>[] {
  const columns: Column<SecretRow>[] = [
    { header: "NAME", value: (r) => r.name },
    { header: "REGISTRIES", value: registriesCell },
    { header: "EXPORTED TO", value: (r) => (r.exported ? r.exportedTo : "-") },
    { header: "ACCESS", value: (r) => (r.exported ? r.access?.verdict ?? "" : "-") },
    { header: "COPIES", value: (r) => (r.exported ? (r.copies === undefined ? "" : String(r.copies)) : "-") },
    { header: "READY", value: (r) => (r.exported ? r.ready : "-") },
    { header: "AGE", value: (r) => age(r.createdAt, now) },
  ];
  return withNamespace ? [{ header: "NAMESPACE", value: (r) => r.namespace }, ...columns] : columns;
}

function registriesCell(r: SecretRow): string {
  if (!r.sourceFound) return "<source missing>";
  if (r.problem !== undefined) return "<malformed>";
  return r.registries.join(",");
}
