import type { V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_ON_REVOKE, FINALIZER_REVOKE_COPIES, LABEL_EXPORTED } from "../api/names.js";
import type { AccessCheck } from "../registry/access.js";
import type { Condition, PullSecretExport, PullSecretExportStatus } from "../api/types.js";
import { resolveSpec } from "../api/types.js";
import type { VerificationMode } from "../config/settings.js";
import { exportEligibleFor, type InjectionPolicy, type NamespaceInfo } from "../admission/eligibility.js";
import { decideAccess } from "../admission/accessPolicy.js";
import type { ExportWithSource } from "../cluster/exportIndex.js";
import { copyIsCurrent } from "../copies/desired.js";

/** Everything the controller saw about one export key, `<namespace>/<name>`. */
export interface ExportObservation {
  namespace: string;
  name: string;
  /** The export and its source; export undefined when the export is gone. */
  joined: ExportWithSource | undefined;
  /** The source secret, whether or not an export exists. */
  source: V1Secret | undefined;
  namespaces: readonly NamespaceInfo[];
  /** regcred's copies of this export, in any namespace. */
  copies: readonly V1Secret[];
  access: AccessCheck | undefined;
  policy: InjectionPolicy;
  verificationMode: VerificationMode;
  now: string;
}

export type Action =
  | { kind: "markSource" }
  | { kind: "releaseSource" }
  | { kind: "writeCopy"; namespace: string; create: boolean }
  | { kind: "deleteCopy"; namespace: string; name: string }
  | { kind: "updateStatus"; status: PullSecretExportStatus }
  | { kind: "event"; type: "Normal" | "Warning"; reason: string; message: string };

interface Distribution {
  distributing: boolean;
  /** Revoke copies (source gone) rather than freeze them (source bad: an operator must act). */
  revoke: boolean;
  conditions: Omit<Condition, "lastTransitionTime">[];
}

export function isMarked(source: V1Secret): boolean {
  return source.metadata?.labels?.[LABEL_EXPORTED] === "true"
    && (source.metadata.finalizers ?? []).includes(FINALIZER_REVOKE_COPIES);
}

function hasMarks(source: V1Secret): boolean {
  return source.metadata?.labels?.[LABEL_EXPORTED] !== undefined
    || (source.metadata?.finalizers ?? []).includes(FINALIZER_REVOKE_COPIES);
}

/** Observed state in, actions out. Order matters: copies before the finalizer is released. */
export function planExport(o: ExportObservation): Action[] {
  const exp = o.joined?.export;
  const sourceDeleting = o.source?.metadata?.deletionTimestamp !== undefined;
  const actions: Action[] = [];
  if (!exp) {
    actions.push(...revokeCopies(o.copies, undefined));
    if (o.source && hasMarks(o.source)) actions.push({ kind: "releaseSource" });
    return actions;
  }
  if (o.source && !sourceDeleting && !isMarked(o.source)) actions.push({ kind: "markSource" });
  const dist = distribution(o, sourceDeleting);
  const spec = resolveSpec(exp.spec);
  const template = o.joined?.distributable?.template;
  let current = 0;
  const byNamespace = new Map(o.copies.map((c) => [c.metadata?.namespace ?? "", c]));
  const eligible = new Set<string>();
  if (dist.distributing && template) {
    for (const ns of o.namespaces) {
      if (ns.name === o.namespace || !exportEligibleFor(spec, o.namespace, o.name, ns, o.policy)) continue;
      eligible.add(ns.name);
      const copy = byNamespace.get(ns.name);
      if (copy && copyIsCurrent(copy, template)) current++;
      else if (copy || spec.provisioning === "Eager") actions.push({ kind: "writeCopy", namespace: ns.name, create: !copy });
    }
  }
  if (dist.distributing || dist.revoke) {
    actions.push(...revokeCopies(o.copies.filter((c) => !eligible.has(c.metadata?.namespace ?? "")), spec.onRevoke));
  }
  if (sourceDeleting && o.source && hasMarks(o.source)) actions.push({ kind: "releaseSource" });
  const status = nextStatus(exp, o, dist, current);
  if (status) actions.push({ kind: "updateStatus", status });
  return actions;
}

function revokeCopies(copies: readonly V1Secret[], onRevoke: string | undefined): Action[] {
  return copies
    .filter((c) => (onRevoke ?? c.metadata?.annotations?.[ANNOTATION_ON_REVOKE] ?? "Delete") === "Delete")
    .map((c) => ({ kind: "deleteCopy" as const, namespace: c.metadata?.namespace ?? "", name: c.metadata?.name ?? "" }));
}

function distribution(o: ExportObservation, sourceDeleting: boolean): Distribution {
  const ref = `${o.namespace}/${o.name}`;
  const creds = o.joined?.credentials;
  if (!o.source || sourceDeleting) {
    const message = `source secret ${ref} does not exist; create a kubernetes.io/dockerconfigjson Secret named ${o.name} in ${o.namespace}`;
    return { distributing: false, revoke: true, conditions: [
      cond("CredentialsValid", "False", "SourceNotFound", message),
      cond("ReadOnlyVerified", "Unknown", "SourceNotFound", "there are no credentials to check"),
      cond("Ready", "False", "SourceNotFound", message),
    ] };
  }
  if (!creds?.ok) {
    const reason = creds?.reason ?? "SourceMalformed";
    const message = creds?.message ?? "the source secret could not be read";
    return { distributing: false, revoke: false, conditions: [
      cond("CredentialsValid", "False", reason, message),
      cond("ReadOnlyVerified", "Unknown", reason, "the credentials cannot be checked until they are valid"),
      cond("Ready", "False", reason, `nothing is distributed: ${message}; existing copies are left as they are`),
    ] };
  }
  const valid = cond("CredentialsValid", "True", "Valid", `${creds.credentials.length} registry credential(s) found`);
  if (o.joined?.distributable?.registryKeys.length === 0) {
    // spec.registries names only registries the source does not hold: nothing may travel, and
    // copies made before the export was narrowed this far are revoked like any narrowing.
    const message = "spec.registries names no registry the source holds; list registry keys of the source, or remove spec.registries";
    return { distributing: false, revoke: true, conditions: [valid,
      cond("ReadOnlyVerified", "Unknown", "NoRegistries", "nothing is distributed, so nothing was checked"),
      cond("Ready", "False", "NoRegistries", message)] };
  }
  const access = o.access ?? { verdict: "Unknown" as const, method: "none", message: "not checked yet" };
  const verified = access.verdict === "ReadOnly" ? cond("ReadOnlyVerified", "True", "ReadOnly", access.message)
    : access.verdict === "Writable" ? cond("ReadOnlyVerified", "False", "Writable", access.message)
    : cond("ReadOnlyVerified", "Unknown", "NotVerified", access.message);
  const decision = decideAccess(ref, access, o.verificationMode);
  if (!decision.allowed) {
    return { distributing: false, revoke: false, conditions: [valid, verified,
      cond("Ready", "False", access.verdict === "Writable" ? "Writable" : "NotVerified",
        `nothing is distributed and existing copies are left as they are until an operator acts: ${decision.message.replace(/^regcred: /, "")}`)] };
  }
  return { distributing: true, revoke: false, conditions: [valid, verified, cond("Ready", "True", "Distributing", "the credentials are offered to the namespaces this export targets")] };
}

function cond(type: string, status: Condition["status"], reason: string, message: string): Omit<Condition, "lastTransitionTime"> {
  return { type, status, reason, message };
}

function nextStatus(exp: PullSecretExport, o: ExportObservation, dist: Distribution, copies: number): PullSecretExportStatus | undefined {
  const old = exp.status ?? {};
  const generation = exp.metadata.generation;
  const conditions: Condition[] = dist.conditions.map((c) => {
    const prev = old.conditions?.find((p) => p.type === c.type);
    const unchanged = prev?.status === c.status;
    return {
      ...c,
      lastTransitionTime: unchanged ? prev.lastTransitionTime : o.now,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
  const status: PullSecretExportStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(o.source?.metadata?.resourceVersion ? { sourceResourceVersion: o.source.metadata.resourceVersion } : {}),
    registries: [...(o.joined?.distributable?.registryKeys ?? [])],
    copies,
    conditions,
  };
  if (o.access) status.access = { verdict: o.access.verdict, method: o.access.method, checkedAt: old.access?.verdict === o.access.verdict && old.access.method === o.access.method ? old.access.checkedAt : o.now, message: o.access.message };
  return sameStatus(old, status) ? undefined : status;
}

function sameStatus(a: PullSecretExportStatus, b: PullSecretExportStatus): boolean {
  const strip = (s: PullSecretExportStatus): string => JSON.stringify(sortedKeys({
    ...s,
    conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: undefined })),
    access: s.access ? { ...s.access, checkedAt: undefined } : undefined,
  }));
  return strip(a) === strip(b);
}

/** The API server returns a custom resource with its keys sorted: compare regardless of key order. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortedKeys(obj[k])]));
}
