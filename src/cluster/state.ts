import type { KubernetesListObject, V1Namespace, V1Secret } from "@kubernetes/client-node";
import { EXPORT_PLURAL, GROUP, LABEL_EXPORTED, LABEL_MANAGED_BY, MANAGED_BY_VALUE, VERSION } from "../api/names.js";
import type { PullSecretExport } from "../api/types.js";
import type { NamespaceInfo } from "../admission/eligibility.js";
import { exportKey, type CopyState, type DistributableExport } from "../admission/pods.js";
import { copyDataHash, copySourceKey } from "../copies/desired.js";
import type { Logger } from "../observability/logger.js";
import { admissible, joinExport, type ExportWithSource } from "./exportIndex.js";
import { ResilientInformer } from "./informer.js";
import { slimCopy, slimNamespace } from "./slim.js";
import type { KubeClients } from "./kube.js";

export const COPY_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
export const SOURCE_SELECTOR = `${LABEL_EXPORTED}=true`;

/** What the writer knows that the watch may not have delivered yet. */
export interface CopyWriteMemory {
  recentHash(namespace: string, name: string): string | undefined;
  isConflict(namespace: string, name: string): boolean;
}

/**
 * The caches every replica keeps: namespaces, exports, exported sources and regcred's copies, each a
 * label-filtered watch. Reads on the admission path come only from here.
 */
export class ClusterState {
  readonly namespaces: ResilientInformer<V1Namespace>;
  readonly exports: ResilientInformer<PullSecretExport>;
  readonly sources: ResilientInformer<V1Secret>;
  readonly copies: ResilientInformer<V1Secret>;
  private joined = new Map<string, { versions: string; value: ExportWithSource }>();
  private admissibleList: DistributableExport[] | undefined;
  private namespaceList: NamespaceInfo[] | undefined;
  private copiesBySource: Map<string, V1Secret[]> | undefined;
  private writes: CopyWriteMemory = { recentHash: () => undefined, isConflict: () => false };

  constructor(clients: KubeClients, log: Logger) {
    const { kc, core, custom } = clients;
    this.namespaces = new ResilientInformer(kc, "/api/v1/namespaces",
      (labelSelector, _field, page) => core.listNamespace({ labelSelector, ...page }), log, { slim: slimNamespace });
    this.exports = new ResilientInformer(kc, `/apis/${GROUP}/${VERSION}/${EXPORT_PLURAL}`,
      (labelSelector, _field, page) => custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: EXPORT_PLURAL, labelSelector, ...page }) as Promise<KubernetesListObject<PullSecretExport>>,
      log);
    this.sources = new ResilientInformer(kc, "/api/v1/secrets",
      (labelSelector, _field, page) => core.listSecretForAllNamespaces({ labelSelector, ...page }), log, { labelSelector: SOURCE_SELECTOR });
    this.copies = new ResilientInformer(kc, "/api/v1/secrets",
      (labelSelector, _field, page) => core.listSecretForAllNamespaces({ labelSelector, ...page }), log, { labelSelector: COPY_SELECTOR, slim: slimCopy });
    const invalidate = (): void => { this.admissibleList = undefined; };
    this.exports.onChange(invalidate);
    this.sources.onChange(invalidate);
    this.namespaces.onChange(() => { this.namespaceList = undefined; });
    this.copies.onChange(() => { this.copiesBySource = undefined; });
  }

  useWriteMemory(memory: CopyWriteMemory): void {
    this.writes = memory;
  }

  async start(): Promise<void> {
    await Promise.all([this.namespaces.start(), this.exports.start(), this.sources.start(), this.copies.start()]);
  }

  get synced(): boolean {
    return this.namespaces.synced && this.exports.synced && this.sources.synced && this.copies.synced;
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.exports.stop(), this.sources.stop(), this.copies.stop()]);
  }

  namespace(name: string): NamespaceInfo | undefined {
    const ns = this.namespaces.get(name);
    return ns ? namespaceInfo(ns) : undefined;
  }

  /**
   * Every namespace, in the cache's order; rebuilt only after a namespace changed. Every reconcile
   * of an export reads them all, and a namespace event reconciles each export it affects.
   */
  namespaceInfos(): readonly NamespaceInfo[] {
    this.namespaceList ??= this.namespaces.list().map(namespaceInfo);
    return this.namespaceList;
  }

  /** regcred's copies that name `sourceKey` (`<namespace>/<name>`) as their source, in the cache's order. */
  copiesOf(sourceKey: string): readonly V1Secret[] {
    return this.copyGroups().get(sourceKey) ?? [];
  }

  /** The sources the cached copies name, each once, in the order the cache first lists one. */
  copySourceKeys(): Iterable<string> {
    return this.copyGroups().keys();
  }

  /** The copies grouped by their source annotation; rebuilt only after a copy changed. */
  private copyGroups(): Map<string, V1Secret[]> {
    if (!this.copiesBySource) {
      const groups = new Map<string, V1Secret[]>();
      for (const copy of this.copies.list()) {
        const key = copySourceKey(copy);
        if (key === undefined) continue;
        const group = groups.get(key);
        if (group) group.push(copy);
        else groups.set(key, [copy]);
      }
      this.copiesBySource = groups;
    }
    return this.copiesBySource;
  }

  /** Every export joined with its source, memoised on both resourceVersions. */
  joinedExports(): ExportWithSource[] {
    const seen = new Set<string>();
    const out: ExportWithSource[] = [];
    for (const exp of this.exports.list()) {
      const key = `${exp.metadata.namespace ?? ""}/${exp.metadata.name ?? ""}`;
      seen.add(key);
      const source = this.sources.get(exp.metadata.name ?? "", exp.metadata.namespace);
      const versions = `${exp.metadata.resourceVersion ?? ""}/${source?.metadata?.resourceVersion ?? "-"}`;
      let entry = this.joined.get(key);
      if (entry?.versions !== versions) {
        entry = { versions, value: joinExport(exp, source) };
        this.joined.set(key, entry);
      }
      out.push(entry.value);
    }
    for (const key of this.joined.keys()) if (!seen.has(key)) this.joined.delete(key);
    return out;
  }

  joinedExport(namespace: string, name: string): ExportWithSource | undefined {
    return this.joinedExports().find((j) => j.export.metadata.namespace === namespace && j.export.metadata.name === name);
  }

  /** Ready exports with a valid source; rebuilt only after an export or source changed. */
  admissibleExports(): readonly DistributableExport[] {
    this.admissibleList ??= this.joinedExports().map(admissible).filter((d): d is DistributableExport => d !== undefined);
    return this.admissibleList;
  }

  copyState(namespace: string, exp: DistributableExport): CopyState {
    const name = exp.template.name;
    if (this.writes.isConflict(namespace, name)) return "conflict";
    const cached = this.copies.get(name, namespace);
    const hash = (cached ? copyDataHash(cached) : undefined) ?? this.writes.recentHash(namespace, name);
    if (hash === exp.template.dataHash || this.writes.recentHash(namespace, name) === exp.template.dataHash) return "current";
    return cached ? "stale" : "missing";
  }

  copyStates(namespace: string, exports: readonly DistributableExport[]): Map<string, CopyState> {
    return new Map(exports.map((exp) => [exportKey(exp), this.copyState(namespace, exp)]));
  }
}

export function namespaceInfo(ns: V1Namespace): NamespaceInfo {
  return { name: ns.metadata?.name ?? "", labels: ns.metadata?.labels ?? {}, annotations: ns.metadata?.annotations ?? {} };
}
