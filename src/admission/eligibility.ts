import { ALWAYS_EXCLUDED_NAMESPACES, ANNOTATION_INJECT, ANNOTATION_NAMESPACE_EXPORTS, LABEL_INJECT } from "../api/names.js";
import type { ResolvedExportSpec } from "../api/types.js";
import type { InjectionMode } from "../config/settings.js";
import { labelSelectorMatches, type Labels } from "./selector.js";

export interface NamespaceInfo {
  name: string;
  labels: Labels;
  annotations: Labels;
}

export interface InjectionPolicy {
  mode: InjectionMode;
  /** kube-system, kube-public, kube-node-lease, regcred's own namespace and the configured extras. */
  excluded: ReadonlySet<string>;
}

export function injectionPolicy(mode: InjectionMode, ownNamespace: string, extraExcluded: readonly string[]): InjectionPolicy {
  return { mode, excluded: new Set([...ALWAYS_EXCLUDED_NAMESPACES, ownNamespace, ...extraExcluded]) };
}

/**
 * Whether a namespace asked for credentials. The annotation is the owner's word; the label mirrors it
 * and may also be set on its own, so it counts when the annotation is absent.
 */
export function namespaceOptedIn(ns: NamespaceInfo, policy: InjectionPolicy): boolean {
  if (policy.excluded.has(ns.name)) return false;
  const said = ns.annotations[ANNOTATION_INJECT] ?? ns.labels[LABEL_INJECT];
  if (said === "false") return false;
  if (said === "true") return true;
  return policy.mode === "allNamespaces";
}

/** The namespace's `regcred.dev/exports` limit: absent means every export that targets it. */
export function namespaceAcceptsExport(ns: NamespaceInfo, exportNamespace: string, exportName: string): boolean {
  const limit = ns.annotations[ANNOTATION_NAMESPACE_EXPORTS];
  if (limit === undefined || limit.trim() === "") return true;
  const wanted = `${exportNamespace}/${exportName}`;
  return limit.split(",").some((entry) => entry.trim() === wanted);
}

/** The export's side of consent: toNamespaces (names or "*") AND namespaceSelector when set. */
export function exportTargetsNamespace(spec: ResolvedExportSpec, ns: NamespaceInfo): boolean {
  const named = spec.toNamespaces.includes("*") || spec.toNamespaces.includes(ns.name);
  if (!named) return false;
  return spec.namespaceSelector ? labelSelectorMatches(spec.namespaceSelector, ns.labels) : true;
}

/** Both sides of consent, plus the exclusions: may this export's credentials be in this namespace? */
export function exportEligibleFor(
  spec: ResolvedExportSpec, exportNamespace: string, exportName: string, ns: NamespaceInfo, policy: InjectionPolicy,
): boolean {
  return namespaceOptedIn(ns, policy)
    && namespaceAcceptsExport(ns, exportNamespace, exportName)
    && exportTargetsNamespace(spec, ns);
}
