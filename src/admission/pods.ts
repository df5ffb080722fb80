import type { V1Pod } from "@kubernetes/client-node";
import type { Operation } from "fast-json-patch";
import { ANNOTATION_INJECTED, ANNOTATION_SKIP } from "../api/names.js";
import type { ResolvedExportSpec } from "../api/types.js";
import type { CopyTemplate } from "../copies/desired.js";
import { parseImageReference, type ImageReference } from "../registry/imageRef.js";
import { registryKeyMatchesImage } from "../registry/keyring.js";
import { exportEligibleFor, namespaceOptedIn, type InjectionPolicy, type NamespaceInfo } from "./eligibility.js";
import { escapePointer } from "./patch.js";
import { exportsForRegistries } from "./registryIndex.js";

const INJECTED_POINTER = `/metadata/annotations/${escapePointer(ANNOTATION_INJECTED)}`;

/** An export that is Ready, with a valid source: what admission may hand out. */
export interface DistributableExport {
  namespace: string;
  name: string;
  spec: ResolvedExportSpec;
  /** Registry keys of the source after `spec.registries` filtering. */
  registryKeys: readonly string[];
  template: CopyTemplate;
}

/**
 * What regcred knows of one export's copy in the pod's namespace:
 * current (exists with the source's data), stale (regcred's, older data), missing, conflict (a Secret
 * of that name that is not regcred's), failed (the write just failed).
 */
export type CopyState = "current" | "stale" | "missing" | "conflict" | "failed";

export interface PodAdmissionInput {
  pod: V1Pod;
  namespace: NamespaceInfo;
  policy: InjectionPolicy;
  exports: readonly DistributableExport[];
  /** Keyed by exportKey(); absent means missing. */
  copyStates: ReadonlyMap<string, CopyState>;
  dryRun: boolean;
}

export interface PodDecision {
  patch: Operation[];
  warnings: string[];
  /** Copies to create or update before answering (never on a dry run). */
  ensure: DistributableExport[];
  /** Exports skipped because a user's Secret holds the copy's name. */
  conflicts: DistributableExport[];
  /** Names of the secrets the patch adds to spec.imagePullSecrets. */
  injected: string[];
}

export function exportKey(exp: { namespace: string; name: string }): string {
  return `${exp.namespace}/${exp.name}`;
}

function noChange(): PodDecision {
  return { patch: [], warnings: [], ensure: [], conflicts: [], injected: [] };
}

/**
 * The exports decidePod reads a copy state for: eligible for the namespace, with a key matching one
 * of the pod's images. decidePod over these alone decides exactly as over all of them (it skips
 * every other export before looking at anything else), so a caller can look up the copy states of
 * these only, rather than of every export for every pod.
 */
export function exportsForPod(pod: V1Pod, namespace: NamespaceInfo, policy: InjectionPolicy, exports: readonly DistributableExport[]): DistributableExport[] {
  if (pod.metadata?.annotations?.[ANNOTATION_SKIP] === "true" || !namespaceOptedIn(namespace, policy)) return [];
  const images = podImages(pod);
  if (images.length === 0) return [];
  return exportsForRegistries(exports, images.map((image) => image.ref.registry))
    .filter((exp) => exportEligibleFor(exp.spec, exp.namespace, exp.name, namespace, policy)
      && images.some((image) => exp.registryKeys.some((key) => registryKeyMatchesImage(key, image.ref))));
}

export function decidePod(input: PodAdmissionInput): PodDecision {
  const { pod, namespace } = input;
  if (pod.metadata?.annotations?.[ANNOTATION_SKIP] === "true") return noChange();
  if (!namespaceOptedIn(namespace, input.policy)) return noChange();
  const images = podImages(pod);
  if (images.length === 0) return noChange();

  const listed = new Set((pod.spec?.imagePullSecrets ?? []).map((ref) => ref.name));
  const decision = noChange();
  for (const exp of sortedByKey(input.exports)) {
    if (!exportEligibleFor(exp.spec, exp.namespace, exp.name, namespace, input.policy)) continue;
    const registries = matchedRegistries(exp, images);
    if (registries.length === 0) continue;
    const inOwnNamespace = exp.namespace === namespace.name;
    const secretName = inOwnNamespace ? exp.name : exp.template.name;
    const state: CopyState = inOwnNamespace ? "current" : input.copyStates.get(exportKey(exp)) ?? "missing";
    if (state === "conflict") {
      decision.conflicts.push(exp);
      decision.warnings.push(
        `regcred: skipped export ${exportKey(exp)}: a Secret named ${secretName} exists here and is not regcred's; rename or delete it to receive these credentials`,
      );
      continue;
    }
    if ((state === "missing" || state === "stale") && !input.dryRun) decision.ensure.push(exp);
    if (listed.has(secretName)) continue;
    listed.add(secretName);
    decision.injected.push(secretName);
    decision.warnings.push(warningFor(exp, secretName, registries, state, input.dryRun));
  }
  decision.patch = patchFor(pod, decision.injected);
  return decision;
}

function warningFor(exp: DistributableExport, secretName: string, registries: string[], state: CopyState, dryRun: boolean): string {
  const base = `regcred: added imagePullSecret ${secretName} (export ${exportKey(exp)}) for ${registries.join(", ")}`;
  if (state === "failed") return `${base}; the copy could not be written yet, the controller will create it shortly`;
  if (dryRun && (state === "missing" || state === "stale")) return `${base}; dry run, the copy was not written`;
  return base;
}

interface PodImage {
  ref: ImageReference;
}

function podImages(pod: V1Pod): PodImage[] {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const images: PodImage[] = [];
  for (const c of containers) {
    if (!c.image) continue;
    try {
      images.push({ ref: parseImageReference(c.image) });
    } catch {
      // An image the runtime could not pull anyway gets no credentials; validation of the pod
      // itself is the API server's job, not a reason to refuse it here.
    }
  }
  return images;
}

function matchedRegistries(exp: DistributableExport, images: readonly PodImage[]): string[] {
  const hits = new Set<string>();
  for (const image of images) {
    if (exp.registryKeys.some((key) => registryKeyMatchesImage(key, image.ref))) hits.add(image.ref.registry);
  }
  return [...hits].sort();
}

/** By `namespace/name`, each key built once (not once per comparison). */
function sortedByKey(exports: readonly DistributableExport[]): DistributableExport[] {
  return exports
    .map((exp) => ({ exp, key: exportKey(exp) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ exp }) => exp);
}

function patchFor(pod: V1Pod, injected: readonly string[]): Operation[] {
  if (injected.length === 0) return [];
  const ops: Operation[] = [];
  if (pod.spec?.imagePullSecrets === undefined) {
    ops.push({ op: "add", path: "/spec/imagePullSecrets", value: injected.map((name) => ({ name })) });
  } else {
    for (const name of injected) ops.push({ op: "add", path: "/spec/imagePullSecrets/-", value: { name } });
  }
  const annotations = pod.metadata?.annotations;
  const previous = annotations?.[ANNOTATION_INJECTED];
  const value = previous
    ? [...new Set([...previous.split(",").filter((s) => s !== ""), ...injected])].join(",")
    : injected.join(",");
  if (annotations === undefined) {
    ops.push({ op: "add", path: "/metadata/annotations", value: { [ANNOTATION_INJECTED]: value } });
  } else {
    ops.push({ op: "add", path: INJECTED_POINTER, value });
  }
  return ops;
}
