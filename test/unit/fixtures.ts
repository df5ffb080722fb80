/** Builders shared by the unit tests: made-up credentials, source secrets, exports and namespaces. */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import type { NamespaceInfo } from "../../src/admission/eligibility.js";
import type { DistributableExport } from "../../src/admission/pods.js";
import { resolveSpec } from "../../src/api/types.js";
import type { PullSecretExport, PullSecretExportSpec } from "../../src/api/types.js";
import { copyTemplate } from "../../src/copies/desired.js";

export const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
export const unb64 = (text: string): string => Buffer.from(text, "base64").toString("utf8");

/** A `.dockerconfigjson` document with `user:password` auth for each registry key. */
export function dockerConfigJson(entries: Record<string, { user: string; password: string }>): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [key, { user, password }] of Object.entries(entries)) auths[key] = { auth: b64(`${user}:${password}`) };
  return JSON.stringify({ auths });
}

export interface SourceOptions {
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: Date;
}

/** A kubernetes.io/dockerconfigjson Secret as the API returns it (data in base64). */
export function sourceSecret(
  namespace: string, name: string, entries: Record<string, { user: string; password: string }>, options: SourceOptions = {},
): V1Secret {
  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace, resourceVersion: options.resourceVersion ?? "100" },
    data: { ".dockerconfigjson": b64(dockerConfigJson(entries)) },
  };
  const meta = secret.metadata ?? {};
  if (options.labels) meta.labels = options.labels;
  if (options.annotations) meta.annotations = options.annotations;
  if (options.finalizers) meta.finalizers = options.finalizers;
  if (options.deletionTimestamp) meta.deletionTimestamp = options.deletionTimestamp;
  return secret;
}

export function exportObject(namespace: string, name: string, spec: PullSecretExportSpec, generation = 1): PullSecretExport {
  return { apiVersion: "regcred.dev/v1alpha1", kind: "PullSecretExport", metadata: { namespace, name, generation, uid: `uid-${name}` }, spec };
}

/**
 * What admission may hand out for an export: the resolved spec, the registry keys it serves, and
 * the copy template (data is a stand-in; admission never reads it).
 */
export function distributable(
  namespace: string, name: string, spec: PullSecretExportSpec, registryKeys: readonly string[], resourceVersion = "100",
): DistributableExport {
  const resolved = resolveSpec(spec);
  const data = { ".dockerconfigjson": b64(JSON.stringify({ auths: Object.fromEntries(registryKeys.map((k) => [k, { auth: b64("u:p") }])) })) };
  return {
    namespace, name, spec: resolved, registryKeys,
    template: copyTemplate(namespace, name, "kubernetes.io/dockerconfigjson", data, resourceVersion, resolved.onRevoke),
  };
}

export function namespace(name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): NamespaceInfo {
  return { name, annotations, labels };
}

/** An opted-in namespace (annotation `regcred.dev/inject: "true"`). */
export function optedIn(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceInfo {
  return namespace(name, { "regcred.dev/inject": "true", ...annotations }, labels);
}

/**
 * Applies a JSONPatch the way the API server would (validating every operation, so a patch that
 * adds below a missing parent fails), to a copy of `document`.
 */
export function applied<T>(document: T, patch: readonly Operation[]): T {
  return jsonpatch.applyPatch(structuredClone(document), [...patch], true, false).newDocument;
}

export interface PodOptions {
  imagePullSecrets?: { name: string }[];
  annotations?: Record<string, string>;
}

/** A pod with one container per image; `imagePullSecrets` and `metadata.annotations` only when given. */
export function pod(images: { containers?: string[]; initContainers?: string[] }, options: PodOptions = {}): V1Pod {
  const p: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web" },
    spec: { containers: (images.containers ?? []).map((image, i) => ({ name: `c${String(i)}`, image })) },
  };
  const spec = p.spec ?? { containers: [] };
  if (images.initContainers) spec.initContainers = images.initContainers.map((image, i) => ({ name: `init${String(i)}`, image }));
  if (options.imagePullSecrets) spec.imagePullSecrets = options.imagePullSecrets;
  if (options.annotations && p.metadata) p.metadata.annotations = options.annotations;
  return p;
}
