/**
 * Reading and validating the credentials of a source secret (`.dockerconfigjson` or the legacy
 * `.dockercfg`), and narrowing a config to some registries.
 *
 * Every failure message says what is wrong and what to do, names the registry key at fault (keys
 * are not secret), and never repeats a credential value: these messages reach admission responses,
 * Events, conditions and logs. Validation is as strict as the kubelet's decoding (Go's strict
 * base64, `user:password` auth), because a secret the kubelet cannot decode breaks every pull.
 */
import {
  DOCKERCFG_KEY,
  DOCKERCONFIGJSON_KEY,
  SECRET_TYPE_DOCKERCFG,
  SECRET_TYPE_DOCKERCONFIGJSON,
} from "../api/names.js";
import { registryKeysEqual } from "./keyring.js";

export interface RegistryCredential {
  /** The registry key exactly as written in the config, e.g. `https://index.docker.io/v1/`. */
  key: string;
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
  email?: string;
}

export type DockerConfigFormat = "dockerconfigjson" | "dockercfg";

export type CredentialsResult =
  | { ok: true; credentials: RegistryCredential[]; format: DockerConfigFormat }
  | { ok: false; reason: "WrongSecretType" | "SourceMalformed"; message: string };

type Failure = Extract<CredentialsResult, { ok: false }>;
type JsonObject = Record<string, unknown>;

// The string fields of one entry, as docker writes them (lower-case JSON names).
const STRING_FIELDS = ["auth", "username", "password", "identitytoken", "registrytoken", "email"] as const;
type EntryFields = Partial<Record<(typeof STRING_FIELDS)[number], string>>;

const FORMATS: Readonly<Record<string, { format: DockerConfigFormat; dataKey: string }>> = {
  [SECRET_TYPE_DOCKERCONFIGJSON]: { format: "dockerconfigjson", dataKey: DOCKERCONFIGJSON_KEY },
  [SECRET_TYPE_DOCKERCFG]: { format: "dockercfg", dataKey: DOCKERCFG_KEY },
};

/** Parses a `.dockerconfigjson` document: `{"auths": {"<registry>": {auth, username, ...}}}`. */
export function parseDockerConfigJson(json: string): CredentialsResult {
  const parsed = parseJsonObject(json, DOCKERCONFIGJSON_KEY);
  if (!parsed.ok) return parsed;
  const auths = parsed.doc.auths;
  if (!isObject(auths)) {
    return malformed(
      `${DOCKERCONFIGJSON_KEY} has no "auths" object; write it as {"auths": {"<registry>": {"auth": "<base64 of user:password>"}}}` +
        " (a legacy ~/.dockercfg document belongs in a secret of type kubernetes.io/dockercfg)",
    );
  }
  return parseEntries(auths, DOCKERCONFIGJSON_KEY, "dockerconfigjson");
}

/** Parses a legacy `.dockercfg` document: `{"<registry>": {auth, username, ...}}`, no `auths` wrapper. */
export function parseDockerCfg(json: string): CredentialsResult {
  const parsed = parseJsonObject(json, DOCKERCFG_KEY);
  if (!parsed.ok) return parsed;
  const doc = parsed.doc;
  if (isObject(doc.auths) && Object.keys(doc).length === 1) {
    // A modern document in a legacy secret: say so rather than report a registry named "auths".
    return malformed(
      `${DOCKERCFG_KEY} holds an "auths" object, which is the .dockerconfigjson format; store it in a secret of type ${SECRET_TYPE_DOCKERCONFIGJSON} under the key ${DOCKERCONFIGJSON_KEY}`,
    );
  }
  return parseEntries(doc, DOCKERCFG_KEY, "dockercfg");
}

/**
 * Reads the credentials of a Secret as the Kubernetes API returns it (`data` values in base64).
 * The type must be `kubernetes.io/dockerconfigjson` (data key `.dockerconfigjson`) or
 * `kubernetes.io/dockercfg` (data key `.dockercfg`).
 */
export function parseSourceSecret(secret: { type?: string; data?: Record<string, string> }): CredentialsResult {
  const expected = secret.type === undefined ? undefined : FORMATS[secret.type];
  if (!expected) {
    const actual = secret.type === undefined ? "no type (Kubernetes treats that as Opaque)" : `type ${quote(secret.type)}`;
    return {
      ok: false,
      reason: "WrongSecretType",
      message: `the source secret has ${actual}; registry credentials must be in a secret of type ${SECRET_TYPE_DOCKERCONFIGJSON} (or the legacy ${SECRET_TYPE_DOCKERCFG}), for example one made by "kubectl create secret docker-registry"`,
    };
  }
  const encoded = secret.data?.[expected.dataKey];
  if (encoded === undefined) {
    // Data keys are names, not values, so listing them helps without revealing anything.
    const present = Object.keys(secret.data ?? {});
    const has = present.length === 0 ? "it has no data" : `it has ${present.slice(0, 10).map(quote).join(", ")}`;
    return malformed(
      `the source secret of type ${quote(secret.type ?? "")} has no data key ${expected.dataKey} (${has}); put the registry config under that key`,
    );
  }
  const text = decodeBase64Text(encoded);
  if (text === undefined) {
    return malformed(`the ${expected.dataKey} value of the source secret is not valid base64 of UTF-8 text; store the config base64-encoded under data (or as plain text under stringData)`);
  }
  return expected.format === "dockerconfigjson" ? parseDockerConfigJson(text) : parseDockerCfg(text);
}

/**
 * The same config restricted to the registry keys listed (compared with `registryKeysEqual`, so
 * `docker.io` selects `https://index.docker.io/v1/`), re-serialised as compact JSON. An empty list
 * keeps every registry and every other field of the document. A non-empty list keeps only the
 * selected entries: other top-level fields of a `.dockerconfigjson` (such as `HttpHeaders`, which
 * may carry tokens and apply to every registry) are dropped, because the kubelet never reads them
 * and the export asked for those registries only.
 *
 * @throws Error when `json` is not a config of that format (validate with the parse functions first).
 */
export function selectRegistries(json: string, format: DockerConfigFormat, registries: string[]): string {
  const parsed = parseJsonObject(json, format === "dockerconfigjson" ? DOCKERCONFIGJSON_KEY : DOCKERCFG_KEY);
  if (!parsed.ok) throw new Error(parsed.message);
  const doc = parsed.doc;
  if (registries.length === 0) return JSON.stringify(doc);
  const entries = format === "dockerconfigjson" ? doc.auths : doc;
  if (!isObject(entries)) throw new Error(`${DOCKERCONFIGJSON_KEY} has no "auths" object`);
  const selected: JsonObject = {};
  for (const [key, entry] of Object.entries(entries)) {
    if (registries.some((wanted) => registryKeysEqual(wanted, key))) selected[key] = entry;
  }
  return JSON.stringify(format === "dockerconfigjson" ? { auths: selected } : selected);
}

function parseEntries(entries: JsonObject, dataKey: string, format: DockerConfigFormat): CredentialsResult {
  const keys = Object.keys(entries);
  if (keys.length === 0) {
    return malformed(`${dataKey} lists no registries; add at least one registry entry with credentials`);
  }
  const credentials: RegistryCredential[] = [];
  for (const key of keys) {
    const result = parseEntry(key, entries[key], dataKey);
    if ("message" in result) return result;
    credentials.push(result);
  }
  return { ok: true, credentials, format };
}

function parseEntry(key: string, entry: unknown, dataKey: string): RegistryCredential | Failure {
  if (key.trim() === "") return malformed(`${dataKey} has an entry with an empty registry key; name the registry host, e.g. "registry.example.com"`);
  const where = `the ${dataKey} entry for registry ${displayKey(key)}`;
  if (!isObject(entry)) return malformed(`${where} is not an object; write it as {"auth": "<base64 of user:password>"}`);

  const fields: EntryFields = {};
  for (const name of STRING_FIELDS) {
    const value = entry[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") return malformed(`${where} has a "${name}" that is not a string; quote the value`);
    // Docker treats an empty field as absent.
    if (value !== "") fields[name] = value;
  }

  const credential: RegistryCredential = { key };
  let { username, password } = fields;
  if (fields.auth !== undefined) {
    // Docker's behaviour: `auth` overrides separate username/password fields.
    const decoded = decodeAuth(fields.auth);
    if (decoded === "not-base64") {
      return malformed(`${where} has an "auth" that is not valid base64; set it to the base64 encoding of "username:password"`);
    }
    if (decoded === "not-user-password") {
      return malformed(`${where} has an "auth" that does not decode to "username:password"; set it to the base64 encoding of "username:password"`);
    }
    ({ username, password } = decoded);
  }
  if (username !== undefined) credential.username = username;
  if (password !== undefined) credential.password = password;
  if (fields.identitytoken !== undefined) credential.identityToken = fields.identitytoken;
  if (fields.registrytoken !== undefined) credential.registryToken = fields.registrytoken;
  if (fields.email !== undefined) credential.email = fields.email;

  const hasPassword = username !== undefined && password !== undefined;
  if (!hasPassword && credential.identityToken === undefined && credential.registryToken === undefined) {
    return malformed(
      `${where} has no usable credentials; give it "auth" (base64 of "username:password"), both "username" and "password", or an "identitytoken" or "registrytoken"`,
    );
  }
  return credential;
}

type DecodedAuth = { username: string; password?: string } | "not-base64" | "not-user-password";

function decodeAuth(auth: string): DecodedAuth {
  const text = decodeBase64Text(auth);
  if (text === undefined) return "not-base64";
  const colon = text.indexOf(":");
  // Docker requires a non-empty username; the password may be empty when a token is set instead.
  if (colon <= 0) return "not-user-password";
  const password = text.slice(colon + 1);
  return password === "" ? { username: text.slice(0, colon) } : { username: text.slice(0, colon), password };
}

// Go's base64.StdEncoding, which the kubelet and the API server use: standard alphabet, padding
// required, line breaks ignored. Node's decoder would silently skip bad characters instead.
function decodeBase64Text(value: string): string | undefined {
  const compact = value.replace(/[\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(compact, "base64"));
  } catch {
    return undefined;
  }
}

function parseJsonObject(json: string, dataKey: string): { ok: true; doc: JsonObject } | Failure {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (error) {
    // JSON.parse messages can quote the input, which holds credentials: keep only the position.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    const at = position === undefined ? "" : ` (error at character ${position})`;
    return malformed(`${dataKey} is not valid JSON${at}; check the quoting and commas of the config`);
  }
  if (!isObject(doc)) {
    const shape = dataKey === DOCKERCFG_KEY ? `{"<registry>": {...}}` : `{"auths": {"<registry>": {...}}}`;
    return malformed(`${dataKey} is not a JSON object; the config must look like ${shape}`);
  }
  return { ok: true, doc };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(message: string): Failure {
  return { ok: false, reason: "SourceMalformed", message };
}

// A registry key for a message: quoted, shortened, and with any `user:password@` in it hidden.
function displayKey(key: string): string {
  const hidden = key.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, "$1***@");
  return quote(hidden);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}
