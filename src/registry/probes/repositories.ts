/**
 * Which repositories are probed for write access, per registry key. Pure; see
 * docs/adr/0006-write-access-probes.md for why.
 *
 * 1. `spec.verification.repositories` of the export, when it lists any (invalid names are dropped);
 * 2. else derived from the key and the credentials, at most three, first match first:
 *    - a key with a path (`harbor.example.com/team-a`): `team-a/regcred-probe`;
 *    - a Harbor robot account (`robot$team-a+ci`, `robot$team-a$ci`): `team-a/regcred-probe`;
 *    - a username that is a valid repository path component (lower-cased): `<username>/regcred-probe`,
 *      the namespace a personal account can push to on Docker Hub, GHCR, Quay and most self-hosted
 *      registries;
 *    - nothing else derived: `regcred-probe` at the top level (on Docker Hub: `library/regcred-probe`).
 *
 * `regcred-probe` is a name no image is expected to have; the probes create nothing under it.
 */
import type { RegistryCredential } from "../dockerConfig.js";

export const PROBE_REPOSITORY = "regcred-probe";
const MAX_DERIVED = 3;
// distribution's reference grammar for one path component, and whole repository names.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export function isRepositoryName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  return name.split("/").every((c) => COMPONENT.test(c));
}

export function probedRepositories(
  credential: Pick<RegistryCredential, "username">,
  pathPrefix: readonly string[],
  specRepositories: readonly string[],
  isDockerHub = false,
): string[] {
  const listed = unique(specRepositories.map((r) => r.trim().replace(/^\/+|\/+$/g, "")).filter(isRepositoryName));
  if (listed.length > 0) return listed.map((r) => dockerHubName(r, isDockerHub));
  const derived: string[] = [];
  const prefix = pathPrefix.join("/");
  if (prefix !== "" && isRepositoryName(prefix)) derived.push(`${prefix}/${PROBE_REPOSITORY}`);
  const namespace = usernameNamespace(credential.username);
  if (namespace !== undefined) derived.push(`${namespace}/${PROBE_REPOSITORY}`);
  if (derived.length === 0) derived.push(PROBE_REPOSITORY);
  return unique(derived).slice(0, MAX_DERIVED).map((r) => dockerHubName(r, isDockerHub));
}

/** The namespace a username most likely owns, if it can be told from the name alone. */
export function usernameNamespace(username: string | undefined): string | undefined {
  if (username === undefined) return undefined;
  // Harbor robot accounts: robot$<project>+<name> (2.2+), robot$<project>$<name>... the project is theirs.
  const robot = /^robot\$([^+$]+)[+$].+$/.exec(username);
  if (robot?.[1] !== undefined) {
    const project = robot[1].toLowerCase();
    return COMPONENT.test(project) ? project : undefined;
  }
  const lower = username.toLowerCase();
  return COMPONENT.test(lower) ? lower : undefined;
}

/** Docker Hub puts single-component names under `library/`, as the docker client does. */
function dockerHubName(repository: string, isDockerHub: boolean): string {
  return isDockerHub && !repository.includes("/") ? `library/${repository}` : repository;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
