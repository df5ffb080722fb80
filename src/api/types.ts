import type { V1LabelSelector, V1ObjectMeta } from "@kubernetes/client-node";

export type Provisioning = "OnDemand" | "Eager";
export type OnRevoke = "Delete" | "Orphan";
export type AccessVerdict = "ReadOnly" | "Writable" | "Unknown";
export type ConditionStatus = "True" | "False" | "Unknown";

export interface PullSecretExportSpec {
  toNamespaces?: string[];
  namespaceSelector?: V1LabelSelector;
  registries?: string[];
  provisioning?: Provisioning;
  onRevoke?: OnRevoke;
  verification?: { repositories?: string[] };
}

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface AccessStatus {
  verdict: AccessVerdict;
  method: string;
  checkedAt: string;
  message?: string;
}

export interface PullSecretExportStatus {
  observedGeneration?: number;
  sourceResourceVersion?: string;
  registries?: string[];
  access?: AccessStatus;
  copies?: number;
  conditions?: Condition[];
}

export interface PullSecretExport {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec?: PullSecretExportSpec;
  status?: PullSecretExportStatus;
}

/** The export spec with the contract's defaults filled in. */
export interface ResolvedExportSpec {
  toNamespaces: string[];
  namespaceSelector?: V1LabelSelector;
  registries: string[];
  provisioning: Provisioning;
  onRevoke: OnRevoke;
  repositories: string[];
}

export function resolveSpec(spec: PullSecretExportSpec | undefined): ResolvedExportSpec {
  const s = spec ?? {};
  const resolved: ResolvedExportSpec = {
    // SPEC: toNamespaces defaults to ["*"] when namespaceSelector is set; with neither, the export
    // targets nothing rather than everything (consent must be explicit).
    toNamespaces: s.toNamespaces ?? (s.namespaceSelector ? ["*"] : []),
    registries: s.registries ?? [],
    provisioning: s.provisioning ?? "OnDemand",
    onRevoke: s.onRevoke ?? "Delete",
    repositories: s.verification?.repositories ?? [],
  };
  if (s.namespaceSelector) resolved.namespaceSelector = s.namespaceSelector;
  return resolved;
}

export function findCondition(status: PullSecretExportStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function isReady(exp: PullSecretExport): boolean {
  return findCondition(exp.status, "Ready")?.status === "True";
}
