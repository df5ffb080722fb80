/** `regcred status NAME -n NS`: the export's conditions, the namespaces holding copies, recent events. */
import { EXIT, type ParsedCommand, secretNameArgument } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { secretStatus, type SecretStatus } from "../operations.js";
import { age, renderStructured, renderTable, safeText } from "../output.js";

export const status: Command = {
  name: "status",
  summary: "show a registry secret's export: conditions, access verdict, the namespaces holding copies, recent events",
  positionals: ["NAME"],
  globals: ["namespace", "output"],
  options: {},
  details: "Example:\n  regcred status harbor-ro -n registry-creds",

  async run(ctx: CommandContext, args: ParsedCommand): Promise<number> {
    const name = secretNameArgument(args);
    const conn = ctx.connect();
    const namespace = ctx.namespace(conn);
    const result = await secretStatus(conn.clients, namespace, name);
    ctx.io.out(args.output === "table" ? renderStatus(result) : renderStructured(result, args.output));
    return EXIT.ok;
  },
};

export function renderStatus(s: SecretStatus, now = Date.now()): string {
  const lines: string[] = [];
  const field = (label: string, value: string): void => { lines.push(`${`${label}:`.padEnd(14)}${safeText(value)}`); };
  field("Secret", `${s.namespace}/${s.name}${s.source.type ? ` (${s.source.type})` : ""}`);
  if (s.source.error) field("Source", `cannot be read: ${s.source.error}`);
  else if (!s.source.found) field("Source", "does not exist (the export waits for it: SourceNotFound)");
  else if (s.source.problem) field("Source", `malformed: ${s.source.problem}`);
  field("Registries", s.source.registries.join(", ") || "<none>");
  if (s.source.declaredAccess) field("Declared", `regcred.dev/access: ${s.source.declaredAccess}`);
  if (!s.export) {
    field("Export", `not exported (regcred export ${s.name} -n ${s.namespace})`);
  } else {
    const e = s.export;
    field("Export", `to ${e.exportedTo}; provisioning ${e.provisioning}, onRevoke ${e.onRevoke}${e.registries.length > 0 ? `; registries ${e.registries.join(", ")}` : ""}`);
    if (e.generation !== undefined && e.observedGeneration !== e.generation) field("Observed", `generation ${e.observedGeneration ?? "none"} of ${e.generation} (the controller has not caught up yet)`);
    field("Access", e.access ? `${e.access.verdict} (by ${e.access.method}, ${age(e.access.checkedAt, now)} ago): ${e.access.message ?? ""}` : "not checked yet");
    field("Copies", e.copies === undefined ? "not counted yet" : String(e.copies));
    lines.push("", "Conditions:");
    if (e.conditions.length === 0) lines.push("  <none yet>");
    else {
      lines.push(indent(renderTable(e.conditions, [
        { header: "TYPE", value: (c) => c.type },
        { header: "STATUS", value: (c) => c.status },
        { header: "REASON", value: (c) => c.reason },
        { header: "AGE", value: (c) => age(c.lastTransitionTime, now) },
        { header: "MESSAGE", value: (c) => c.message },
      ])));
    }
  }
  lines.push("", "Copies in namespaces:");
  if (s.copiesError) lines.push(`  cannot be listed: ${safeText(s.copiesError)}`);
  else if (s.copies.length === 0) lines.push("  <none>");
  else lines.push(indent(renderTable(s.copies, [
    { header: "NAMESPACE", value: (c) => c.namespace },
    { header: "SECRET", value: (c) => c.name },
    { header: "STATE", value: (c) => c.state },
  ])));
  lines.push("", "Events:");
  if (s.eventsError) lines.push(`  cannot be listed: ${safeText(s.eventsError)}`);
  else if (s.events.length === 0) lines.push("  <none>");
  else lines.push(indent(renderTable(s.events, [
    { header: "LAST SEEN", value: (ev) => age(ev.lastSeen, now) },
    { header: "TYPE", value: (ev) => ev.type },
    { header: "REASON", value: (ev) => ev.reason },
    { header: "FROM", value: (ev) => ev.from },
    { header: "MESSAGE", value: (ev) => (ev.count > 1 ? `${ev.message} (x${ev.count})` : ev.message) },
  ])));
  return `${lines.join("\n").replace(/\n+$/, "")}\n`;
}

function indent(text: string): string {
  return text.replace(/\n$/, "").split("\n").map((l) => `  ${l}`).join("\n");
}
