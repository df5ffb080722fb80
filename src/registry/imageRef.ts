/**
 * Image references, parsed the way the container runtime parses them (distribution/reference's
 * grammar and its "normalized name" rules), so that the registry we match credentials against is
 * the registry the kubelet will actually pull from.
 */

/** A normalized image reference: `nginx` becomes registry `docker.io`, repository `library/nginx`. */
export interface ImageReference {
  /** Host and optional port, lower-cased; `docker.io` for Docker Hub. */
  registry: string;
  /** The path inside the registry, e.g. `library/nginx` or `team/app`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Thrown for a string that is not a valid image reference. The message names the rule broken. */
export class ImageReferenceError extends Error {
  override readonly name = "ImageReferenceError";
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`invalid image reference ${quote(reference)}: ${reason}`);
  }
}

const DOCKER_HUB = "docker.io";
const LEGACY_DOCKER_HUB = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
// distribution's NameTotalLengthMax: the registry plus the repository path, as normalized.
const NAME_MAX_LENGTH = 255;

// The grammar's productions (distribution regexp.go), written as anchored regular expressions.
// Path components are lowercase alphanumerics joined by one ".", one or two "_", or any "-" run.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// A DNS-ish label: alphanumerics and inner hyphens; the grammar lets the host be mixed case.
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
// IPv6 literal in brackets (no zone identifiers), with an optional port.
const IPV6_HOST = /^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/;
const PORT = /^[0-9]+$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
// A bare 64-hex string is an image ID, which distribution refuses to read as a name.
const IMAGE_ID = /^[a-f0-9]{64}$/;

// The runtime validates digests with go-digest, which only knows these algorithms, each with a
// fixed length of lowercase hex. Anything else cannot be pulled, so it is not a valid reference.
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parses and normalizes an image reference (`[host[:port]/]path[:tag][@digest]`).
 *
 * The first path component is the registry host when it contains "." or ":", is "localhost", or has
 * an uppercase letter (repository paths are lowercase, so distribution reads such a component as a
 * host); otherwise the image is on Docker Hub. The host is lower-cased, `index.docker.io` becomes
 * `docker.io`, and single-component Docker Hub names get the `library/` prefix.
 *
 * @throws ImageReferenceError when the string does not follow the grammar.
 */
export function parseImageReference(ref: string): ImageReference {
  const known = parsedReferences.get(ref);
  if (known) return { ...known };
  const parsed = parseUncached(ref);
  if (parsedReferences.size >= PARSED_REFERENCES_MAX) parsedReferences.clear();
  parsedReferences.set(ref, { ...parsed });
  return parsed;
}

/**
 * Valid references already parsed: every pod of a Deployment names the same images, and admission
 * parses each image of each pod. Callers get a copy, so the remembered one cannot change. Bounded;
 * emptied when full. Invalid references are not remembered (they throw every time).
 */
const parsedReferences = new Map<string, ImageReference>();
const PARSED_REFERENCES_MAX = 4096;

function parseUncached(ref: string): ImageReference {
  if (ref === "") throw new ImageReferenceError(ref, "it is empty");
  if (IMAGE_ID.test(ref)) {
    throw new ImageReferenceError(ref, "a 64-character hex string is an image ID, not a repository name");
  }

  const { rest: nameAndTag, digest } = splitDigest(ref);
  const { name, tag } = splitTag(nameAndTag);
  const { host, path } = splitHost(name);

  if (path.toLowerCase() !== path) {
    throw new ImageReferenceError(ref, `the repository path ${quote(path)} must be lowercase`);
  }
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw new ImageReferenceError(
        ref,
        component === ""
          ? "the repository path has an empty component"
          : `the path component ${quote(component)} may only contain lowercase letters, digits and single separators (".", "_", "__", "-")`,
      );
    }
  }

  const registry = normalizeHost(ref, host);
  const repository = registry === DOCKER_HUB && !path.includes("/") ? OFFICIAL_PREFIX + path : path;
  if (registry.length + 1 + repository.length > NAME_MAX_LENGTH) {
    throw new ImageReferenceError(ref, `the repository name is longer than ${NAME_MAX_LENGTH} characters`);
  }

  const parsed: ImageReference = { registry, repository };
  if (tag !== undefined) {
    if (!TAG.test(tag)) {
      throw new ImageReferenceError(
        ref,
        `the tag ${quote(tag)} must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`,
      );
    }
    parsed.tag = tag;
  }
  if (digest !== undefined) {
    validateDigest(ref, digest);
    parsed.digest = digest;
  }
  return parsed;
}

/** The `registry/repository` string that registry keys are matched against (no tag or digest). */
export function imageMatchTarget(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

function splitDigest(ref: string): { rest: string; digest?: string } {
  const at = ref.indexOf("@");
  if (at === -1) return { rest: ref };
  const digest = ref.slice(at + 1);
  if (digest.includes("@")) throw new ImageReferenceError(ref, 'it contains more than one "@"');
  return { rest: ref.slice(0, at), digest };
}

function splitTag(nameAndTag: string): { name: string; tag?: string } {
  // A ":" after the last "/" starts the tag; one before it belongs to a registry port.
  const colon = nameAndTag.lastIndexOf(":");
  if (colon === -1 || colon < nameAndTag.lastIndexOf("/")) return { name: nameAndTag };
  return { name: nameAndTag.slice(0, colon), tag: nameAndTag.slice(colon + 1) };
}

// distribution's splitDockerDomain: decide whether the first component names a registry.
function splitHost(name: string): { host: string; path: string } {
  const slash = name.indexOf("/");
  // A single component ("nginx", even "localhost" or "example.com") is always a Docker Hub name.
  if (slash === -1) return { host: DOCKER_HUB, path: name };
  const first = name.slice(0, slash);
  const isHost =
    first === "localhost" || first.includes(".") || first.includes(":") || first.toLowerCase() !== first;
  return isHost ? { host: first, path: name.slice(slash + 1) } : { host: DOCKER_HUB, path: name };
}

function normalizeHost(ref: string, host: string): string {
  if (!isValidHost(host)) {
    throw new ImageReferenceError(
      ref,
      `the registry host ${quote(host)} must be a DNS name, an IPv4 address or a bracketed IPv6 address, with an optional numeric port`,
    );
  }
  // Hostnames are case-insensitive; one spelling keeps key matching and caching simple.
  const lower = host.toLowerCase();
  return lower === LEGACY_DOCKER_HUB ? DOCKER_HUB : lower;
}

function isValidHost(host: string): boolean {
  if (host.startsWith("[")) return IPV6_HOST.test(host);
  const colon = host.indexOf(":");
  const name = colon === -1 ? host : host.slice(0, colon);
  if (colon !== -1 && !PORT.test(host.slice(colon + 1))) return false;
  return name.split(".").every((label) => DOMAIN_LABEL.test(label));
}

function validateDigest(ref: string, digest: string): void {
  if (!DIGEST.test(digest)) {
    throw new ImageReferenceError(ref, `the digest ${quote(digest)} must look like "sha256:<64 hex characters>"`);
  }
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected === undefined) {
    throw new ImageReferenceError(ref, `the digest algorithm ${quote(algorithm)} is not supported (use sha256, sha384 or sha512)`);
  }
  if (hex.length !== expected || !/^[0-9a-f]+$/.test(hex)) {
    throw new ImageReferenceError(ref, `a ${algorithm} digest must be exactly ${expected} lowercase hex characters`);
  }
}

// Quote untrusted input for a message; cut it so a huge string cannot flood logs or responses.
function quote(value: string): string {
  return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
}
