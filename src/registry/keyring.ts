/**
 * Which registry keys of a docker config apply to an image: the kubelet's credential keyring rules
 * (kubernetes pkg/credentialprovider/keyring.go), so that regcred hands a pod the credentials the
 * kubelet would pick. Two differences, both deliberate:
 * - a key's path must match whole repository components (the kubelet compares string prefixes);
 * - `index.docker.io` is folded into `docker.io` for every key, also one with a path (the kubelet
 *   only falls back to a bare `index.docker.io` key), because docker and the SPEC treat them as one.
 */
import type { ImageReference } from "./imageRef.js";

/** A registry key split into the parts matching works on. */
interface ParsedKey {
  /** Lower-cased host labels; a label may contain `*` globs. */
  readonly labels: readonly string[];
  /** Port digits, or "" when the key names none. */
  readonly port: string;
  /** Path prefix components (no empty ones), e.g. ["team-a"]. */
  readonly path: readonly string[];
  /** The host as spelled before the Docker Hub aliases were folded together. */
  readonly spelledHost: string;
}

const DOCKER_HUB = "docker.io";
// Docker Hub's legacy names: `docker login` still stores Hub credentials under
// "https://index.docker.io/v1/", and docker treats both hosts as one registry.
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set(["docker.io", "index.docker.io"]);
const SCHEME = /^https?:\/\//i;
// Characters a key's host may use: DNS labels, `*` globs, and a bracketed IPv6 literal.
const HOST_LABEL = /^[a-z0-9*-]+$/;
const IPV6_LITERAL = /^\[[a-f0-9:]+\]$/;
const PORT = /^[0-9]+$/;

/**
 * The canonical spelling of a registry key: no scheme, lower-cased host, Docker Hub aliases as
 * `docker.io`, no leading `/v1/` or `/v2/` API path, no trailing slash; e.g.
 * `https://index.docker.io/v1/` → `docker.io`, `HTTPS://Quay.io/v2/` → `quay.io`. A key that
 * cannot be read as a registry is returned trimmed and lower-cased, so it still compares equal to
 * itself.
 */
export function normalizeRegistryKey(key: string): string {
  const parsed = parseKey(key);
  if (!parsed) return key.trim().toLowerCase();
  const host = parsed.labels.join(".") + (parsed.port === "" ? "" : `:${parsed.port}`);
  return [host, ...parsed.path].join("/");
}

/** Whether two registry keys name the same registry and path (`docker.io` = `https://index.docker.io/v1/`). */
export function registryKeysEqual(a: string, b: string): boolean {
  return normalizeRegistryKey(a) === normalizeRegistryKey(b);
}

/**
 * Whether the credentials stored under `key` apply to `image` (kubelet `URLsMatch`):
 * - the port must be equal, including its absence: `host:5000` never matches `host`, nor the reverse;
 * - the host must have as many DNS labels as the key, and each key label is a glob in which `*`
 *   stands for any characters within that one label (`*.example.com` matches `a.example.com`, not
 *   `a.b.example.com` nor `example.com`), compared case-insensitively;
 * - the key's path, if any, must be a prefix of the repository on whole components
 *   (`host/team-a` matches `host/team-a/app`, not `host/team-ab/app`). The kubelet compares raw
 *   string prefixes here and would accept `team-ab`; regcred is stricter so a team's credentials
 *   never reach a neighbour whose name merely starts the same way.
 */
export function registryKeyMatchesImage(key: string, image: ImageReference): boolean {
  const parsedKey = parseKey(key);
  const target = parseKey(image.registry);
  if (!parsedKey || !target) return false;
  if (parsedKey.port !== target.port) return false;
  if (parsedKey.labels.length !== target.labels.length) return false;
  if (!parsedKey.labels.every((glob, i) => labelMatches(glob, target.labels[i] ?? ""))) return false;
  const repository = image.repository.split("/");
  return parsedKey.path.every((component, i) => repository[i] === component);
}

/** What registryHostOf returns for a key with a `*` label: it may match many hosts. */
export const ANY_HOST = "*";

/**
 * The host (and port) a registry key or an image's registry names, spelled as matching compares
 * them (lower case, Docker Hub aliases folded): two that differ here never match. A key with a `*`
 * label gives ANY_HOST; one that cannot be read as a registry, undefined (it matches nothing).
 * Lets admission look up the exports for an image's host instead of trying every export's keys.
 */
export function registryHostOf(keyOrRegistry: string): string | undefined {
  const parsed = parseKey(keyOrRegistry);
  if (!parsed) return undefined;
  if (parsed.labels.some((label) => label.includes("*"))) return ANY_HOST;
  return parsed.port === "" ? parsed.labels.join(".") : `${parsed.labels.join(".")}:${parsed.port}`;
}

/**
 * The keys that apply to `image`, most preferred first, as the kubelet orders its keyring: reverse
 * lexicographic order of the normalized keys. That puts a key before any key that is a prefix of
 * it (`quay.io/coreos` before `quay.io`) and an exact label before a `*` glob (`*` sorts below
 * letters and digits). Keys that normalize alike keep a literal `docker.io` host ahead of the
 * `index.docker.io` spelling (the kubelet only falls back to that one when nothing else matches),
 * and otherwise keep their input order. Keys are returned as given, so callers can look them up.
 */
export function matchingKeys(keys: readonly string[], image: ImageReference): string[] {
  return keys
    .map((key, index) => ({ key, index, normalized: normalizeRegistryKey(key), legacy: isLegacyHubSpelling(key) }))
    .filter(({ key }) => registryKeyMatchesImage(key, image))
    .sort((a, b) => {
      if (a.normalized !== b.normalized) return a.normalized < b.normalized ? 1 : -1;
      if (a.legacy !== b.legacy) return a.legacy ? 1 : -1;
      return a.index - b.index;
    })
    .map(({ key }) => key);
}

/**
 * Parsed keys and image registries, by their raw spelling. Admission matches every export's keys
 * against every image of every pod, and the same few strings come back each time: parsing them
 * again was most of a warm admission's cost with many exports. parseKey is pure and its results
 * are read-only, so sharing them changes nothing. Bounded; emptied when full.
 */
const parsedKeys = new Map<string, ParsedKey | undefined>();
const PARSED_KEYS_MAX = 4096;

function parseKey(raw: string): ParsedKey | undefined {
  const known = parsedKeys.get(raw);
  if (known !== undefined || parsedKeys.has(raw)) return known;
  const parsed = parseKeyUncached(raw);
  if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
  parsedKeys.set(raw, parsed);
  return parsed;
}

// kubelet `ParseSchemelessURL` plus the key clean-up of `BasicDockerKeyring.Add`.
function parseKeyUncached(raw: string): ParsedKey | undefined {
  let rest = raw.trim().replace(SCHEME, "");
  // A URL's query or fragment says nothing about which registry it is.
  rest = rest.split(/[?#]/, 1)[0] ?? "";
  const slash = rest.indexOf("/");
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  let path = slash === -1 ? [] : rest.slice(slash + 1).split("/");
  // The docker client writes API endpoints such as "https://index.docker.io/v1/"; the kubelet
  // drops a leading "v1/" or "v2/" path (only with its slash: a bare "v2" could be a repository).
  if ((path[0] === "v1" || path[0] === "v2") && path.length > 1) path = path.slice(1);
  path = path.filter((component) => component !== "");

  const hostPort = splitHostPort(authority.toLowerCase());
  if (!hostPort) return undefined;
  const { host, port } = hostPort;
  const isIpv6 = host.startsWith("[");
  const labels = isIpv6 ? [host] : host.split(".");
  if (isIpv6 ? !IPV6_LITERAL.test(host) : !labels.every((label) => HOST_LABEL.test(label))) return undefined;

  const folded = DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB.split(".") : labels;
  return { labels: folded, port, path, spelledHost: host };
}

// kubelet `SplitURL`: separate the port, keeping IPv6 brackets ("[::1]:5000" → "[::1]", "5000").
function splitHostPort(authority: string): { host: string; port: string } | undefined {
  if (authority === "" || authority.includes("@")) return undefined;
  const close = authority.startsWith("[") ? authority.indexOf("]") : -1;
  const colon = authority.indexOf(":", close + 1);
  if (colon === -1) return { host: authority, port: "" };
  const port = authority.slice(colon + 1);
  if (!PORT.test(port)) return undefined;
  return { host: authority.slice(0, colon), port };
}

// One host label against one glob label (the kubelet uses filepath.Match per label). `*` never
// crosses a "." because labels are split first; HOST_LABEL already ruled out regex metacharacters.
function labelMatches(glob: string, label: string): boolean {
  if (!glob.includes("*")) return glob === label;
  return new RegExp(`^${glob.replaceAll("*", "[^.]*")}$`).test(label);
}

function isLegacyHubSpelling(key: string): boolean {
  const parsed = parseKey(key);
  return parsed !== undefined && parsed.spelledHost === "index.docker.io";
}
