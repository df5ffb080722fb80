import type { V1Secret } from "@kubernetes/client-node";
import type { PullSecretExport } from "../api/types.js";
import { resolveSpec } from "../api/types.js";
import { parseSourceSecret, type RegistryCredential } from "../registry/dockerConfig.js";
import { registryKeysEqual } from "../registry/keyring.js";

export type SourceVerdict =
  | { ok: true; credentials: RegistryCredential[] }
  | { ok: false; reason: string; message: string };

/** Type, format and content of a source secret: the checks that need no network. */
export function checkSourceSecret(secret: V1Secret): SourceVerdict {
  const parsed = parseSourceSecret({ type: secret.type, data: secret.data });
  if (!parsed.ok) return { ok: false, reason: parsed.reason, message: parsed.message };
  return { ok: true, credentials: parsed.credentials };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Problems with an export's own spec, and where it may send credentials. Returns the denial message,
 * or undefined when the spec is acceptable.
 */
export function checkExportSpec(exp: PullSecretExport, allowedSourceNamespaces: readonly string[]): string | undefined {
  const namespace = exp.metadata.namespace ?? "";
  const spec = resolveSpec(exp.spec);
  for (const target of spec.toNamespaces) {
    if (target !== "*" && (!DNS_LABEL.test(target) || target.length > 63)) {
      return `regcred: spec.toNamespaces entry "${target.slice(0, 80)}" is not a namespace name; use namespace names or "*"`;
    }
  }
  if (spec.toNamespaces.includes("*") && !allowedSourceNamespaces.includes(namespace)) {
    return `regcred: exports to "*" (all namespaces) are allowed only from ${allowedSourceNamespaces.join(", ")} (chart value exports.allowedSourceNamespaces); list the target namespaces by name in spec.toNamespaces, or keep the source secret in one of those namespaces`;
  }
  return undefined;
}

/** Registries listed in spec.registries that the source does not hold: worth a warning, not a denial. */
export function unknownRegistries(exp: PullSecretExport, credentials: readonly RegistryCredential[]): string[] {
  return resolveSpec(exp.spec).registries.filter((r) => !credentials.some((c) => registryKeysEqual(c.key, r)));
}
