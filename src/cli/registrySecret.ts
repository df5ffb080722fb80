/**
 * Building a registry Secret from what a person types: the registry's URL, a username and a
 * password. Pure. The same checks serve the CLI and the console, and their messages never repeat
 * the password.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_ACCESS, DOCKERCONFIGJSON_KEY, SECRET_TYPE_DOCKERCONFIGJSON } from "../api/names.js";
import { parseDockerConfigJson } from "../registry/dockerConfig.js";
import { UsageError } from "./args.js";

export interface RegistryLogin {
  server: string;
  username: string;
  password: string;
  email?: string;
}

const HOST_LABEL = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
/** What `docker login` writes for Docker Hub, and what the kubelet looks up. */
export const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

/**
 * The registry key to store for a server a person typed: `host[:port][/path]`, lower-cased, without
 * scheme or trailing slash; Docker Hub as `https://index.docker.io/v1/`.
 * Accepts `harbor.example.com`, `https://harbor.example.com/`, `registry:5000/team-a`, `[::1]:5000`.
 *
 * @throws UsageError naming what is wrong with it.
 */
export function registryKeyFor(server: string): string {
  const raw = server.trim();
  const problem = (why: string): UsageError => new UsageError(`the registry server ${JSON.stringify(raw.slice(0, 200))} is not valid: ${why}`);
  if (raw === "") throw new UsageError("the registry server is empty; give its host name, e.g. harbor.example.com");
  if (/\s/.test(raw)) throw problem("it contains spaces");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "https" && scheme !== "http") throw problem(`the scheme must be https:// (or none), not ${scheme}://`);
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `https://${raw}` : raw);
  } catch {
    throw problem("it is not a host name with an optional port and path, e.g. harbor.example.com or registry.example.com:5000/team");
  }
  if (url.username !== "" || url.password !== "") throw problem("it must not contain a user name or password; use --username and the password flags");
  if (url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#")) throw problem("it must not have a query or fragment");
  const host = url.hostname.toLowerCase();
  const isIpv6 = host.startsWith("[");
  if (!isIpv6 && !host.split(".").every((label) => HOST_LABEL.test(label))) {
    throw problem("the host must be a DNS name or an IP address, e.g. harbor.example.com");
  }
  // URL drops a default port (":443"); keep what the person wrote, as image references do.
  const portWritten = /^(?:[a-z]+:\/\/)?(?:\[[^\]]*\]|[^/:]*):(\d+)/i.exec(raw)?.[1];
  const port = portWritten ?? url.port;
  if (port !== "" && (Number(port) < 1 || Number(port) > 65535)) throw problem("the port must be between 1 and 65535");
  const path = url.pathname.split("/").filter((p) => p !== "");
  if (DOCKER_HUB_HOSTS.has(host) && port === "") {
    if (path.length === 0 || (path.length === 1 && (path[0] === "v1" || path[0] === "v2"))) return DOCKER_HUB_KEY;
  }
  const cleaned = path[0] === "v1" || path[0] === "v2" ? path.slice(1) : path;
  for (const component of cleaned) {
    if (!PATH_COMPONENT.test(component)) throw problem(`the path component ${JSON.stringify(component.slice(0, 100))} is not a repository name (lowercase letters, digits, ".", "_", "-")`);
  }
  return [port === "" ? host : `${host}:${port}`, ...cleaned].join("/");
}

/** Checks a username and password as `docker login` would take them. */
export function validateLogin(login: RegistryLogin): void {
  if (login.username.trim() === "") throw new UsageError("the username is empty");
  if (login.username.includes(":")) throw new UsageError("the username must not contain \":\" (registries read auth as username:password)");
  if (/[\r\n]/.test(login.username)) throw new UsageError("the username must be one line");
  if (login.password === "") throw new UsageError("the password is empty");
  if (/[\r\n]/.test(login.password)) throw new UsageError("the password must be one line (the newline at its end is removed; it has more than one line)");
}

/** The `.dockerconfigjson` document for one registry. */
export function dockerConfigJson(login: RegistryLogin): string {
  const key = registryKeyFor(login.server);
  const entry: Record<string, string> = {
    username: login.username,
    password: login.password,
    auth: Buffer.from(`${login.username}:${login.password}`).toString("base64"),
  };
  if (login.email !== undefined && login.email !== "") entry.email = login.email;
  return JSON.stringify({ auths: { [key]: entry } });
}

export interface SecretOptions {
  namespace: string;
  name: string;
  login: RegistryLogin;
  /** Annotate the source `regcred.dev/access: read-only` (the owner's declaration). */
  declareReadOnly?: boolean;
}

/** The source Secret, of type kubernetes.io/dockerconfigjson, as `kubectl create secret docker-registry` makes it. */
export function registrySecret(o: SecretOptions): V1Secret {
  validateLogin(o.login);
  const json = dockerConfigJson(o.login);
  // The same parser regcred's webhook uses: what is created here is never refused as malformed.
  const check = parseDockerConfigJson(json);
  if (!check.ok) throw new UsageError(check.message);
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: SECRET_TYPE_DOCKERCONFIGJSON,
    metadata: {
      name: o.name,
      namespace: o.namespace,
      ...(o.declareReadOnly ? { annotations: { [ANNOTATION_ACCESS]: "read-only" } } : {}),
    },
    data: { [DOCKERCONFIGJSON_KEY]: Buffer.from(json).toString("base64") },
  };
}

/** Every form of the credentials that could appear in text, to mask in messages. */
export function secretForms(login: Pick<RegistryLogin, "username" | "password">): string[] {
  const auth = `${login.username}:${login.password}`;
  return [login.password, auth, Buffer.from(auth).toString("base64")];
}
