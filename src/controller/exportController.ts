import { PatchStrategy, setHeaderOptions, type V1Namespace, type V1Secret } from "@kubernetes/client-node";
import { EXPORT_PLURAL, FINALIZER_REVOKE_COPIES, GROUP, LABEL_EXPORTED, VERSION } from "../api/names.js";
import { resolveSpec, type PullSecretExport } from "../api/types.js";
import type { InjectionPolicy } from "../admission/eligibility.js";
import { escapePointer } from "../admission/patch.js";
import type { Settings } from "../config/settings.js";
import type { CopyWriter } from "../cluster/copyWriter.js";
import { exportRef, type EventRecorder } from "../cluster/events.js";
import { joinExport } from "../cluster/exportIndex.js";
import type { KubeClients } from "../cluster/kube.js";
import { namespaceInfo, type ClusterState } from "../cluster/state.js";
import { copySourceKey, isRegcredCopy } from "../copies/desired.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { describeError, statusCodeOf } from "../observability/errors.js";
import type { AccessChecker, AccessCheck } from "../registry/access.js";
import { exportsAffectedByNamespace } from "./affected.js";
import { planExport, type Action, type ExportObservation } from "./plan.js";
import { backfillNamespaceLabel } from "./namespaceLabels.js";
import { WorkQueue } from "./queue.js";
import { forEachLimited, TokenBucket } from "./rateLimit.js";

const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const RESYNC_MS = 5 * 60_000;
const WRITE_CONCURRENCY = 8;
const ACCESS_BUDGET_MS = 20_000;
/**
 * A source that does not exist yet carries no exported label, so no watch reports its creation:
 * an export waiting for its source looks again this often.
 */
const MISSING_SOURCE_RECHECK_MS = 5_000;

export interface ControllerDeps {
  clients: KubeClients;
  state: ClusterState;
  writer: CopyWriter;
  events: EventRecorder;
  access: AccessChecker;
  settings: Settings;
  policy: InjectionPolicy;
  metrics: Metrics;
  log: Logger;
}

/**
 * Keeps exports, their sources and their copies true. Watches feed keys (`<namespace>/<name>` of an
 * export) into a work queue; each reconcile observes from the caches, plans with planExport, and
 * carries the plan out. Only the leader runs it; every replica keeps the caches.
 */
export class ExportController {
  private readonly queue: WorkQueue;
  private readonly limiter: TokenBucket;
  private resync: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly d: ControllerDeps) {
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      workers: 4,
      onError: (key, err, retryInMs) => { d.log.warn({ export: key, retryInMs, error: describeError(err) }, "reconcile failed; retrying"); },
    });
    this.limiter = new TokenBucket(d.settings.kubeApiQps, d.settings.kubeApiBurst);
    const { state } = d;
    state.exports.onChange((exp) => { this.enqueue(`${exp.metadata.namespace ?? ""}/${exp.metadata.name ?? ""}`); });
    state.sources.onChange((s) => { this.enqueue(`${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}`); });
    state.copies.onChange((c) => {
      const key = copySourceKey(c);
      if (key) this.enqueue(key);
    });
    state.copies.onDelete((c) => { d.writer.forget(c.metadata?.namespace ?? "", c.metadata?.name ?? ""); });
    state.namespaces.onChange((ns) => {
      if (!this.running) return;
      void backfillNamespaceLabel(d.clients.core, ns, this.limiter, d.log);
      this.enqueueAffectedBy(ns);
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const ns of this.d.state.namespaces.list()) void backfillNamespaceLabel(this.d.clients.core, ns, this.limiter, this.d.log);
    this.enqueueAll();
    this.resync = setInterval(() => { this.enqueueAll(); }, RESYNC_MS);
    this.resync.unref();
  }

  stop(): void {
    this.running = false;
    if (this.resync) clearInterval(this.resync);
  }

  /** Resolves when the queue has drained (tests and benchmarks use it). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private enqueue(key: string): void {
    if (this.running) this.queue.add(key);
  }

  /** Every export, every source still marked, and every copy's export (orphans included). */
  enqueueAll(): void {
    if (!this.running) return;
    const { state } = this.d;
    for (const e of state.exports.list()) this.queue.add(`${e.metadata.namespace ?? ""}/${e.metadata.name ?? ""}`);
    for (const s of state.sources.list()) this.queue.add(`${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}`);
    for (const key of state.copySourceKeys()) if (key) this.queue.add(key);
  }

  /** The exports a change to `ns` (added, updated or deleted) can affect; the resync covers the rest. */
  private enqueueAffectedBy(ns: V1Namespace): void {
    const name = ns.metadata?.name;
    if (!name) return; // copies.list("") would list every namespace's copies
    const { state, policy } = this.d;
    const exports = state.exports.list().map((e) => ({ namespace: e.metadata.namespace ?? "", name: e.metadata.name ?? "", spec: resolveSpec(e.spec) }));
    const copyKeys = state.copies.list(name).flatMap((c) => copySourceKey(c) ?? []);
    for (const key of exportsAffectedByNamespace(namespaceInfo(ns), exports, copyKeys, policy)) this.queue.add(key);
  }

  private async reconcile(key: string): Promise<void> {
    if (!this.running) return;
    const [namespace = "", name = ""] = key.split("/");
    const observation = await this.observe(namespace, name);
    if (observation.joined && !observation.source) this.queue.addAfter(key, MISSING_SOURCE_RECHECK_MS);
    const actions = planExport(observation);
    // Copy writes go out together, with bounded concurrency; the rest in order (the source's
    // finalizer is released only after its copies are revoked).
    const writes = actions.flatMap((a) => (a.kind === "writeCopy" ? [a.namespace] : []));
    if (writes.length > 0) await this.writeCopies(observation, writes);
    for (const action of actions) if (action.kind !== "writeCopy") await this.execute(observation, action);
  }

  private async observe(namespace: string, name: string): Promise<ExportObservation> {
    const { state } = this.d;
    const exp = state.exports.get(name, namespace);
    const cachedSource = state.sources.get(name, namespace);
    // A source not yet labelled is not in the label-filtered cache: read it once, then mark it.
    const source = cachedSource ?? (exp ? await this.readSecret(namespace, name) : undefined);
    const joined = exp ? ((cachedSource ? state.joinedExport(namespace, name) : undefined) ?? joinExport(exp, source)) : undefined;
    const key = `${namespace}/${name}`;
    const copies = state.copiesOf(key).filter(isRegcredCopy);
    const access = exp && source && joined?.credentials?.ok ? await this.checkAccess(exp, source, joined.credentials.credentials) : undefined;
    return {
      namespace, name, joined, source, copies, access,
      namespaces: state.namespaceInfos(),
      policy: this.d.policy, verificationMode: this.d.settings.verificationMode, now: new Date().toISOString(),
    };
  }

  private checkAccess(exp: PullSecretExport, source: V1Secret, credentials: NonNullable<Parameters<AccessChecker["check"]>[0]["credentials"]>): Promise<AccessCheck> {
    return this.d.access.check({
      namespace: source.metadata?.namespace ?? "", name: source.metadata?.name ?? "",
      resourceVersion: source.metadata?.resourceVersion ?? "", annotations: source.metadata?.annotations ?? {},
      credentials, repositories: resolveSpec(exp.spec).repositories,
    }, ACCESS_BUDGET_MS);
  }

  private async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.d.clients.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  }

  private async execute(o: ExportObservation, action: Action): Promise<void> {
    const { clients, log } = this.d;
    const ref = exportRef(o.namespace, o.name, o.joined?.export.metadata.uid);
    switch (action.kind) {
      case "markSource":
        await this.limiter.take();
        await clients.core.patchNamespacedSecret({ namespace: o.namespace, name: o.name, body: markPatch(o.source) }, JSON_PATCH);
        log.info({ source: `${o.namespace}/${o.name}` }, "source secret marked as exported");
        return;
      case "releaseSource":
        await this.limiter.take();
        await clients.core.patchNamespacedSecret({ namespace: o.namespace, name: o.name, body: releasePatch(o.source) }, JSON_PATCH);
        log.info({ source: `${o.namespace}/${o.name}` }, "source secret released");
        return;
      case "writeCopy":
        return; // batched by reconcile(), with bounded concurrency
      case "deleteCopy":
        await this.limiter.take();
        try {
          await clients.core.deleteNamespacedSecret({ namespace: action.namespace, name: action.name });
          this.d.metrics.recordCopyWrite("deleted");
          this.d.writer.forget(action.namespace, action.name);
          if (o.joined) this.d.events.record(ref, "Normal", "CopyRevoked", `copy ${action.namespace}/${action.name} deleted: the namespace is no longer eligible`);
        } catch (err) {
          if (statusCodeOf(err) !== 404) throw err;
        }
        return;
      case "updateStatus":
        await this.limiter.take();
        await this.d.clients.custom.patchNamespacedCustomObjectStatus({
          group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: o.namespace, name: o.name,
          // null removes an access verdict that no longer applies (merge-patch semantics).
          body: { status: { ...action.status, access: action.status.access ?? null } },
        }, MERGE_PATCH);
        this.announceReadiness(o, action.status.conditions?.find((c) => c.type === "Ready"));
        return;
      case "event":
        this.d.events.record(ref, action.type, action.reason, action.message);
        return;
    }
  }

  private announceReadiness(o: ExportObservation, ready: { status: string; reason: string; message: string } | undefined): void {
    const before = o.joined?.export.status?.conditions?.find((c) => c.type === "Ready");
    if (!ready || !o.joined || (before?.status === ready.status && before.reason === ready.reason)) return;
    const ref = exportRef(o.namespace, o.name, o.joined.export.metadata.uid);
    this.d.events.record(ref, ready.status === "True" ? "Normal" : "Warning", ready.status === "True" ? "Distributing" : ready.reason, ready.message);
  }

  private async writeCopies(o: ExportObservation, namespaces: readonly string[]): Promise<void> {
    const template = o.joined?.distributable?.template;
    if (!template) return;
    const ref = exportRef(o.namespace, o.name, o.joined?.export.metadata.uid);
    let failure: string | undefined;
    await forEachLimited(namespaces, WRITE_CONCURRENCY, async (ns) => {
      await this.limiter.take();
      const result = await this.d.writer.ensure(ns, template);
      if (result.result === "created") this.d.events.record(ref, "Normal", "CopyCreated", `copy created in ${ns}`);
      else if (result.result === "updated") this.d.events.record(ref, "Normal", "CopyUpdated", `copy in ${ns} updated to the source's current data`);
      else if (result.result === "conflict") {
        this.d.events.record(ref, "Warning", "CopyConflict", `Secret ${ns}/${template.name} exists and is not managed by regcred; it was left alone`);
      } else if (result.result === "failed") failure = `${ns}: ${result.reason}`;
    });
    if (failure) throw new Error(`copy write failed (${failure})`);
  }
}

function markPatch(source: V1Secret | undefined): object[] {
  const meta = source?.metadata ?? {};
  const ops: object[] = [{ op: "test", path: "/metadata/resourceVersion", value: meta.resourceVersion }];
  if (meta.labels === undefined) ops.push({ op: "add", path: "/metadata/labels", value: { [LABEL_EXPORTED]: "true" } });
  else ops.push({ op: "add", path: `/metadata/labels/${escapePointer(LABEL_EXPORTED)}`, value: "true" });
  if (meta.finalizers === undefined) ops.push({ op: "add", path: "/metadata/finalizers", value: [FINALIZER_REVOKE_COPIES] });
  else if (!meta.finalizers.includes(FINALIZER_REVOKE_COPIES)) ops.push({ op: "add", path: "/metadata/finalizers/-", value: FINALIZER_REVOKE_COPIES });
  return ops;
}

function releasePatch(source: V1Secret | undefined): object[] {
  const meta = source?.metadata ?? {};
  const ops: object[] = [{ op: "test", path: "/metadata/resourceVersion", value: meta.resourceVersion }];
  const index = (meta.finalizers ?? []).indexOf(FINALIZER_REVOKE_COPIES);
  if (index >= 0) ops.push({ op: "remove", path: `/metadata/finalizers/${index}` });
  if (meta.labels?.[LABEL_EXPORTED] !== undefined) ops.push({ op: "remove", path: `/metadata/labels/${escapePointer(LABEL_EXPORTED)}` });
  return ops;
}
