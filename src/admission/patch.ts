/** RFC 6901: `~` is written `~0` and `/` is written `~1` inside a JSON-pointer token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** AdmissionResponse carries a JSONPatch as base64 of its JSON. */
export function encodePatch(patch: readonly object[]): string {
  return Buffer.from(JSON.stringify(patch)).toString("base64");
}
