/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a JSON-pointer token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * Encoded patches by their JSON. Pods of one workload get the same patch, and encoding it is a
 * good part of a warm admission's own cost. Bounded; emptied when full.
 */
const encoded = new Map<string, string>();
const ENCODED_MAX = 1024;

/** AdmissionResponse carries a JSONPatch as base64 of its JSON. */
export function encodePatch(patch: readonly object[]): string {
  const json = JSON.stringify(patch);
  let base64 = encoded.get(json);
  if (base64 === undefined) {
    base64 = Buffer.from(json).toString("base64");
    if (encoded.size >= ENCODED_MAX) encoded.clear();
    encoded.set(json, base64);
  }
  return base64;
}
