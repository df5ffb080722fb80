/** Bulk set-up through the API server as admin, and watching regcred's copies from outside. */
import { setTimeout as sleep } from "node:timers/promises";
import { Watch, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_INJECT, EXPORT_PLURAL, GROUP, LABEL_EXPORT, LABEL_EXPORT_NAMESPACE, VERSION } from "../../src/api/names.js";
import type { PullSecretExport, PullSecretExportSpec } from "../../src/api/types.js";
import { statusCodeOf } from "../../src/observability/errors.js";
import { createExport, dockerConfigJson, sourceSecret, type Clients } from "../harness/fixtures.js";

/** Runs `task` over `items`, `limit` at a time. */
export async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Retries transient failures (the API server is busy on 2 cores); 409 AlreadyExists counts as done. */
export async function retrying(what: string, op: () => Promise<unknown>, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await op();
      return;
    } catch (err) {
      if (statusCodeOf(err) === 409) return;
      if (attempt >= attempts) throw new Error(`${what} failed ${attempts} times: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(200 * 2 ** attempt);
    }
  }
}

/** Creates opted-in namespaces (annotation regcred.dev/inject: "true"; regcred's webhook adds the label). */
export async function createOptedInNamespaces(c: Clients, names: readonly string[], labels: (index: number) => Record<string, string> = () => ({}), concurrency = 16): Promise<void> {
  await eachLimited(names, concurrency, (name, i) => retrying(`creating namespace ${name}`, () => c.core.createNamespace({
    body: { metadata: { name, annotations: { [ANNOTATION_INJECT]: "true" }, labels: labels(i) } },
  })));
}

export function credentials(registry: string, password: string): string {
  return dockerConfigJson({ [registry]: { username: "bench-puller", password } });
}

/** A source secret declared read-only (verification is DeclaredOnly) and its export. */
export async function createSourceAndExport(c: Clients, namespace: string, name: string, registry: string, spec: PullSecretExportSpec): Promise<void> {
  await retrying(`creating source ${namespace}/${name}`, () => c.core.createNamespacedSecret({
    namespace, body: sourceSecret(namespace, name, credentials(registry, `pw-${name}-1`), { "regcred.dev/access": "read-only" }),
  }));
  await retrying(`creating export ${namespace}/${name}`, () => createExport(c, namespace, name, spec));
}

export async function listExports(c: Clients, namespace: string): Promise<PullSecretExport[]> {
  const list = await c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace }) as { items: PullSecretExport[] };
  return list.items;
}

/** Counts objects with one paged list (limit 500), without holding them all. */
export async function countAll(list: (cont: string | undefined) => Promise<{ items: unknown[]; metadata?: { _continue?: string } }>): Promise<number> {
  let count = 0;
  let cont: string | undefined;
  do {
    const page = await list(cont);
    count += page.items.length;
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return count;
}

/**
 * Watches the copies of one export in every namespace (as admin, from outside regcred) and tells
 * when a condition over them first holds: all exist, all hold some data.
 */
export class CopyWatch {
  /** namespace → the copy's `.dockerconfigjson`, base64. */
  readonly copies = new Map<string, string>();
  private controller: AbortController | undefined;
  private stopped = false;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly kc: KubeConfig, private readonly exportNamespace: string, private readonly exportName: string) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.open();
  }

  private async open(): Promise<void> {
    const watch = new Watch(this.kc);
    this.controller = await watch.watch("/api/v1/secrets", {
      labelSelector: `${LABEL_EXPORT_NAMESPACE}=${this.exportNamespace},${LABEL_EXPORT}=${this.exportName}`,
      allowWatchBookmarks: false,
    }, (phase: string, secret: V1Secret) => {
      const ns = secret.metadata?.namespace ?? "";
      if (phase === "DELETED") this.copies.delete(ns);
      else if (phase === "ADDED" || phase === "MODIFIED") this.copies.set(ns, secret.data?.[".dockerconfigjson"] ?? "");
      this.poke();
    }, () => {
      // The API server ends watches after a while; start again (a fresh watch replays every copy as ADDED).
      if (!this.stopped) void sleep(100).then(() => this.open());
    });
  }

  private poke(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when `check` holds, rejects after `timeoutMs`. */
  until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.check !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.copies.size} copies seen)`));
      }, timeoutMs);
      this.waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  /** How many copies hold exactly `data`. */
  holding(data: string): number {
    let n = 0;
    for (const value of this.copies.values()) if (value === data) n++;
    return n;
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}
