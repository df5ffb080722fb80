import { createHash } from "node:crypto";

const MAX_NAME = 253;
const MAX_LABEL_VALUE = 63;

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * The copy's Secret name: `regcred.<export-namespace>.<export-name>`. Past 253 characters the name is
 * cut and ends in a hash of the full name, so two long exports never share a copy.
 */
export function copyName(exportNamespace: string, exportName: string): string {
  const full = `regcred.${exportNamespace}.${exportName}`;
  if (full.length <= MAX_NAME) return full;
  const suffix = shortHash(full, 16);
  const head = full.slice(0, MAX_NAME - suffix.length - 1).replace(/[.-]+$/, "");
  return `${head}-${suffix}`;
}

/** A label value naming the export: the name itself, or a hash when it is longer than a label allows. */
export function exportLabelValue(exportName: string): string {
  return exportName.length <= MAX_LABEL_VALUE ? exportName : shortHash(exportName, 40);
}

/**
 * sha256 of a Secret's data, over its keys in sorted order, so that the same data always has the
 * same hash whatever order the API server returns the keys in.
 */
export function dataHash(data: Readonly<Record<string, string>>): string {
  const h = createHash("sha256");
  for (const key of Object.keys(data).sort()) {
    h.update(key).update("\0").update(data[key] ?? "").update("\0");
  }
  return h.digest("hex");
}
