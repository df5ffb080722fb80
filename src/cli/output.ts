/** Tables as kubectl prints them, and -o json|yaml. Pure. */
import { dumpYaml } from "@kubernetes/client-node";
import type { OutputFormat } from "./args.js";

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/**
 * Columns left-aligned, separated by three spaces, headers in capitals; an empty cell shows as
 * `<none>`. Control characters in values are shown escaped, so a crafted name cannot move the cursor
 * or rewrite the terminal.
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join("   ").trimEnd();
  return `${[line(headers), ...cells.map(line)].join("\n")}\n`;
}

function cell(value: string): string {
  return value === "" ? "<none>" : safeText(value);
}

/** A value for a terminal: control characters escaped as \xNN (newlines included). */
export function safeText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A structured result as JSON or YAML (the table form is the command's own). */
export function renderStructured(value: unknown, format: Exclude<OutputFormat, "table">): string {
  return format === "json" ? `${JSON.stringify(value, null, 2)}\n` : dumpYaml(value);
}

/** `5m`, `3h`, `2d`: kubectl's AGE. */
export function age(from: string | Date | undefined, now = Date.now()): string {
  if (from === undefined) return "";
  const t = typeof from === "string" ? Date.parse(from) : from.getTime();
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
