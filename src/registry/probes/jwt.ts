/**
 * Reading the `access` claim of a registry token (the distribution token spec: a JWT whose claim
 * set has `"access": [{"type": "repository", "name": "team-a/app", "actions": ["pull", "push"]}]`).
 *
 * Decoding only: the signature is not checked, because nothing here authenticates anyone. The token
 * service's own answer about what it granted is what is being read; a forged token would only fool
 * the reader that forged it. The token itself is never returned, logged or put in a message.
 */

export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

export type TokenClaims =
  | { kind: "jwt"; access: ResourceAccess[] }
  /** Not a JWS compact JWT, or one without an `access` claim: the grant cannot be read from it. */
  | { kind: "opaque" };

/** The `access` claim of a JWS compact token, or opaque. Never throws. */
export function decodeAccessClaim(token: string): TokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3) return { kind: "opaque" };
  const payload = decodeBase64UrlJson(parts[1] ?? "");
  if (!isObject(payload) || !Array.isArray(payload.access)) return { kind: "opaque" };
  const access: ResourceAccess[] = [];
  for (const entry of payload.access) {
    if (!isObject(entry) || typeof entry.type !== "string" || typeof entry.name !== "string") continue;
    const actions = Array.isArray(entry.actions) ? entry.actions.filter((a): a is string => typeof a === "string") : [];
    access.push({ type: entry.type, name: entry.name, actions });
  }
  return { kind: "jwt", access };
}

/** The actions granted on one repository (lower-cased, sorted, without duplicates). */
export function grantedActions(access: readonly ResourceAccess[], repository: string): string[] {
  const actions = new Set<string>();
  for (const entry of access) {
    if (entry.type !== "repository" || entry.name !== repository) continue;
    for (const action of entry.actions) actions.add(action.toLowerCase());
  }
  return [...actions].sort();
}

/** Actions that change a repository: push, delete, and `*` (every action, as docker_auth and Harbor write it). */
export const WRITE_ACTIONS: ReadonlySet<string> = new Set(["push", "delete", "*"]);

export function grantsWrite(actions: readonly string[]): boolean {
  return actions.some((a) => WRITE_ACTIONS.has(a));
}

function decodeBase64UrlJson(segment: string): unknown {
  if (segment === "" || !/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
