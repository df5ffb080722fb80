/**
 * Where a registry key's API lives: scheme, host[:port] and the key's path prefix. Pure.
 *
 * - `https://` always, unless the key's host[:port] is listed in the plain-HTTP allow-list
 *   (`--plain-http-registries`); a key written as `http://…` does not allow plain HTTP by itself.
 * - Docker Hub (`docker.io`, `index.docker.io`, `https://index.docker.io/v1/`) is served from
 *   `registry-1.docker.io`.
 * - A key with a `*` wildcard names many registries and none to probe.
 */
import { normalizeRegistryKey } from "../keyring.js";

export interface RegistryEndpoint {
  /** The normalized registry key, e.g. `harbor.example.com/team-a`. */
  registry: string;
  /** host[:port] the key names, e.g. `harbor.example.com`, `docker.io`. */
  host: string;
  /** Path components after the host, e.g. ["team-a"]. */
  pathPrefix: string[];
  /** Where requests go, e.g. `https://harbor.example.com`, no trailing slash. */
  origin: string;
  plainHttp: boolean;
}

export type EndpointResult = { ok: true; endpoint: RegistryEndpoint } | { ok: false; registry: string; reason: string };

const DOCKER_HUB_API = "registry-1.docker.io";

export function registryEndpoint(key: string, plainHttpRegistries: readonly string[]): EndpointResult {
  const registry = normalizeRegistryKey(key);
  const [host = "", ...pathPrefix] = registry.split("/");
  if (host === "" || !/^(\[[0-9a-f:]+\]|[a-z0-9.*-]+)(:[0-9]+)?$/.test(host)) {
    return { ok: false, registry, reason: "the registry key is not a host name" };
  }
  if (host.includes("*")) {
    return { ok: false, registry, reason: "the registry key is a wildcard, which names no single registry to probe" };
  }
  const plainHttp = plainHttpRegistries.some((allowed) => normalizeRegistryKey(allowed).split("/")[0] === host);
  const apiHost = host === "docker.io" ? DOCKER_HUB_API : host;
  return { ok: true, endpoint: { registry, host, pathPrefix, origin: `${plainHttp ? "http" : "https"}://${apiHost}`, plainHttp } };
}

/** Whether a URL may be sent credentials in the clear: only a host on the plain-HTTP allow-list. */
export function mayUseUrl(url: URL, plainHttpRegistries: readonly string[]): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  return plainHttpRegistries.some((allowed) => normalizeRegistryKey(allowed).split("/")[0] === url.host.toLowerCase());
}
