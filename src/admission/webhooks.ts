import type { V1Namespace, V1Pod, V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_ACCESS } from "../api/names.js";
import type { PullSecretExport } from "../api/types.js";
import { resolveSpec } from "../api/types.js";
import type { Settings } from "../config/settings.js";
import type { EnsureResult } from "../cluster/copyWriter.js";
import type { ExportWithSource } from "../cluster/exportIndex.js";
import { exportRef, type ObjectRef, type EventType } from "../cluster/events.js";
import type { Logger } from "../observability/logger.js";
import { declaredAccess, type AccessChecker } from "../registry/access.js";
import type { CopyTemplate } from "../copies/desired.js";
import { decideAccess } from "./accessPolicy.js";
import type { InjectionPolicy, NamespaceInfo } from "./eligibility.js";
import { checkExportSpec, checkSourceSecret, unknownRegistries } from "./exports.js";
import { decideNamespace } from "./namespaces.js";
import { encodePatch } from "./patch.js";
import { decidePod, exportKey, exportsForPod, type CopyState, type DistributableExport } from "./pods.js";
import { allow, allowWithPatch, deny, type AdmissionRequest, type AdmissionResponse } from "./review.js";

/** What the webhooks read and write. Reads come from caches; the rest is the cold path. */
export interface AdmissionContext {
  settings: Settings;
  policy: InjectionPolicy;
  log: Logger;
  namespace(name: string): NamespaceInfo | undefined;
  fetchNamespace(name: string): Promise<NamespaceInfo | undefined>;
  admissibleExports(): readonly DistributableExport[];
  copyStates(namespace: string, exports: readonly DistributableExport[]): Map<string, CopyState>;
  ensureCopy(namespace: string, template: CopyTemplate): Promise<EnsureResult>;
  /** A copy write failed at admission: keep trying after the answer has gone. */
  retryCopy(namespace: string, template: CopyTemplate): void;
  joinedExport(namespace: string, name: string): ExportWithSource | undefined;
  fetchSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  fetchExport(namespace: string, name: string): Promise<PullSecretExport | undefined>;
  recordEvent(ref: ObjectRef, type: EventType, reason: string, message: string): void;
  access: AccessChecker;
}

export type Webhook = (request: AdmissionRequest) => Promise<AdmissionResponse>;

export function podWebhook(ctx: AdmissionContext): Webhook {
  return async (request) => {
    const pod = request.object as V1Pod | undefined;
    const nsName = request.namespace ?? pod?.metadata?.namespace;
    if (request.operation !== "CREATE" || !pod || !nsName) return allow(request.uid);
    const namespace = ctx.namespace(nsName) ?? (await ctx.fetchNamespace(nsName));
    if (!namespace) return allow(request.uid);
    // Copy states only for the exports this pod can get (decidePod decides the same on those alone).
    const exports = exportsForPod(pod, namespace, ctx.policy, ctx.admissibleExports());
    const input = { pod, namespace, policy: ctx.policy, exports, copyStates: ctx.copyStates(nsName, exports), dryRun: request.dryRun };
    let decision = decidePod(input);
    if (decision.ensure.length > 0) {
      const results = await Promise.all(decision.ensure.map(async (exp) => [exportKey(exp), await ensureWithin(ctx, nsName, exp)] as const));
      const states = new Map(input.copyStates);
      for (const [key, result] of results) {
        states.set(key, stateAfter(result));
        const exp = decision.ensure.find((e) => exportKey(e) === key);
        if (!exp) continue;
        if (result.result === "failed") ctx.retryCopy(nsName, exp.template);
        if (result.result === "created" || result.result === "updated") {
          ctx.recordEvent(exportRef(exp.namespace, exp.name), "Normal", result.result === "created" ? "CopyCreated" : "CopyUpdated",
            `copy ${result.result} in ${nsName} for a pod being admitted`);
        }
      }
      decision = decidePod({ ...input, copyStates: states });
    }
    for (const exp of decision.conflicts) {
      if (request.dryRun) continue;
      ctx.recordEvent(exportRef(exp.namespace, exp.name), "Warning", "CopyConflict",
        `Secret ${nsName}/${exp.template.name} exists and is not managed by regcred; it was left alone and pods in ${nsName} do not get this export`);
    }
    if (decision.patch.length === 0) return allow(request.uid, decision.warnings);
    ctx.log.debug({ namespace: nsName, injected: decision.injected, dryRun: request.dryRun }, "pod patched");
    return allowWithPatch(request.uid, encodePatch(decision.patch), decision.warnings);
  };
}

async function ensureWithin(ctx: AdmissionContext, namespace: string, exp: DistributableExport): Promise<EnsureResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<EnsureResult>((resolve) => {
    timer = setTimeout(() => { resolve({ result: "failed", reason: "the copy write took too long" }); }, ctx.settings.copyWriteTimeoutMs);
  });
  try {
    return await Promise.race([ctx.ensureCopy(namespace, exp.template), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function stateAfter(result: EnsureResult): CopyState {
  switch (result.result) {
    case "created": case "updated": case "unchanged": return "current";
    case "conflict": return "conflict";
    case "failed": return "failed";
  }
}

export function namespaceWebhook(): Webhook {
  return (request) => {
    const ns = request.object as V1Namespace | undefined;
    if (!ns || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return Promise.resolve(allow(request.uid));
    const decision = decideNamespace(ns, request.oldObject as V1Namespace | undefined);
    return Promise.resolve(decision.patch.length > 0
      ? allowWithPatch(request.uid, encodePatch(decision.patch), decision.warnings)
      : allow(request.uid, decision.warnings));
  };
}

export function exportWebhook(ctx: AdmissionContext): Webhook {
  return async (request) => {
    const exp = request.object as PullSecretExport | undefined;
    if (!exp || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return allow(request.uid);
    if (exp.metadata.deletionTimestamp) return allow(request.uid);
    const namespace = request.namespace ?? exp.metadata.namespace ?? "";
    const name = exp.metadata.name ?? "";
    const specProblem = checkExportSpec({ ...exp, metadata: { ...exp.metadata, namespace } }, ctx.settings.allowedSourceNamespaces);
    if (specProblem) return deny(request.uid, specProblem);
    const source = await ctx.fetchSecret(namespace, name);
    if (!source) {
      return allow(request.uid, [`regcred: source secret ${namespace}/${name} does not exist yet; nothing is distributed until it does, and it is checked then`]);
    }
    const verdict = await judgeSource(ctx, source, resolveSpec(exp.spec).repositories);
    if (!verdict.allowed) return deny(request.uid, verdict.message);
    const credentials = checkSourceSecret(source);
    const unknown = credentials.ok ? unknownRegistries(exp, credentials.credentials) : [];
    const warnings = [...verdict.warnings];
    if (unknown.length > 0) warnings.push(`regcred: spec.registries names ${unknown.join(", ")}, which the source does not hold; they distribute nothing`);
    return allow(request.uid, warnings);
  };
}

export function secretWebhook(ctx: AdmissionContext): Webhook {
  return async (request) => {
    const secret = request.object as V1Secret | undefined;
    if (!secret || request.operation !== "UPDATE" || secret.metadata?.deletionTimestamp) return allow(request.uid);
    const old = request.oldObject as V1Secret | undefined;
    // The controller's own label and finalizer updates change nothing that is checked.
    if (old && !credentialsChanged(old, secret)) return allow(request.uid);
    const namespace = request.namespace ?? secret.metadata?.namespace ?? "";
    const name = secret.metadata?.name ?? "";
    const exp = ctx.joinedExport(namespace, name)?.export ?? (await ctx.fetchExport(namespace, name));
    if (!exp) return allow(request.uid);
    const verdict = await judgeSource(ctx, { ...secret, metadata: { ...secret.metadata, namespace, name } }, resolveSpec(exp.spec).repositories);
    return verdict.allowed ? allow(request.uid, verdict.warnings) : deny(request.uid, verdict.message);
  };
}

function credentialsChanged(a: V1Secret, b: V1Secret): boolean {
  return a.type !== b.type
    || JSON.stringify(a.data ?? {}) !== JSON.stringify(b.data ?? {})
    || a.metadata?.annotations?.[ANNOTATION_ACCESS] !== b.metadata?.annotations?.[ANNOTATION_ACCESS];
}

type Verdict = { allowed: true; warnings: string[] } | { allowed: false; message: string };

/** Type, format, declared access and (per verification.mode) write probes of a source secret. */
async function judgeSource(ctx: AdmissionContext, source: V1Secret, repositories: readonly string[]): Promise<Verdict> {
  const ref = `${source.metadata?.namespace ?? ""}/${source.metadata?.name ?? ""}`;
  const parsed = checkSourceSecret(source);
  if (!parsed.ok) return { allowed: false, message: `regcred: source secret ${ref} cannot be exported: ${parsed.message}` };
  // A declared read-write credential is refused whatever a probe might say.
  const declared = declaredAccess(source.metadata?.annotations ?? {});
  if (declared?.verdict === "Writable") return decideAccess(ref, declared, ctx.settings.verificationMode);
  const check = await ctx.access.check({
    namespace: source.metadata?.namespace ?? "", name: source.metadata?.name ?? "",
    resourceVersion: source.metadata?.resourceVersion ?? "", annotations: source.metadata?.annotations ?? {},
    credentials: parsed.credentials, repositories,
  }, ctx.settings.probeTimeoutMs);
  return decideAccess(ref, check, ctx.settings.verificationMode);
}
