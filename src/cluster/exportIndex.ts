import type { V1Secret } from "@kubernetes/client-node";
import { DOCKERCFG_KEY, DOCKERCONFIGJSON_KEY } from "../api/names.js";
import { isReady, resolveSpec, type PullSecretExport } from "../api/types.js";
import type { DistributableExport } from "../admission/pods.js";
import { copyTemplate } from "../copies/desired.js";
import { parseSourceSecret, selectRegistries, type CredentialsResult } from "../registry/dockerConfig.js";
import { registryKeysEqual } from "../registry/keyring.js";

/** An export joined with its source secret, as the controller and admission both need it. */
export interface ExportWithSource {
  export: PullSecretExport;
  source: V1Secret | undefined;
  /** Parsed credentials of the source (undefined when there is no source). */
  credentials: CredentialsResult | undefined;
  /** What may be handed out: set only when the source is valid (whether or not the export is Ready). */
  distributable: DistributableExport | undefined;
}

/**
 * Joins an export with its source and works out what its copies hold. Pure: the same export and
 * source versions give the same answer, so callers memoise it on resourceVersions.
 */
export function joinExport(exp: PullSecretExport, source: V1Secret | undefined): ExportWithSource {
  if (!source) return { export: exp, source, credentials: undefined, distributable: undefined };
  const credentials = parseSourceSecret({ type: source.type, data: source.data });
  if (!credentials.ok) return { export: exp, source, credentials, distributable: undefined };
  const spec = resolveSpec(exp.spec);
  const namespace = exp.metadata.namespace ?? "";
  const name = exp.metadata.name ?? "";
  const keys = credentials.credentials.map((c) => c.key)
    .filter((key) => spec.registries.length === 0 || spec.registries.some((r) => registryKeysEqual(r, key)));
  const dataKey = credentials.format === "dockercfg" ? DOCKERCFG_KEY : DOCKERCONFIGJSON_KEY;
  const raw = source.data?.[dataKey] ?? "";
  const data = spec.registries.length === 0
    ? { [dataKey]: raw }
    : { [dataKey]: Buffer.from(selectRegistries(Buffer.from(raw, "base64").toString("utf8"), credentials.format, spec.registries)).toString("base64") };
  const template = copyTemplate(namespace, name, source.type ?? "", data, source.metadata?.resourceVersion ?? "", spec.onRevoke);
  return { export: exp, source, credentials, distributable: { namespace, name, spec, registryKeys: keys, template } };
}

/** Admission hands out only exports the controller has marked Ready and whose source is valid now. */
export function admissible(joined: ExportWithSource): DistributableExport | undefined {
  return isReady(joined.export) ? joined.distributable : undefined;
}
