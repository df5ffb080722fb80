import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";
import { withoutManagedFields, type Slim } from "./slim.js";

export type Listener<T> = (obj: T) => void;

export interface InformerOptions<T> {
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each listed or watched object (default: all but managedFields). */
  slim?: Slim<T>;
}

/** One page of a list: pass them on as `limit` and `_continue` (a list function may ignore them). */
export interface ListPage {
  limit: number;
  _continue: string | undefined;
}

/** client-go's pager size: a large cluster's list arrives in pieces, not as one huge response. */
const LIST_PAGE_SIZE = 500;

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * A label-filtered list+watch cache that never gives up. The client library's ListWatch stops on
 * errors other than 410 Gone and client time-outs; this restarts it with exponential backoff, from
 * the last resourceVersion (a 410 then makes it relist), so an API server restart loses no change.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly inner;
  private backoffMs = MIN_BACKOFF_MS;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private syncedOnce = false;
  /** ListWatch reports a failed list through its error callbacks, not by rejecting start(). */
  private failedSinceStart = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    kc: KubeConfig,
    readonly path: string,
    list: (labelSelector: string | undefined, fieldSelector: string | undefined, page: ListPage) => Promise<KubernetesListObject<T>>,
    private readonly log: Logger,
    options: InformerOptions<T> = {},
  ) {
    const { labelSelector, fieldSelector, slim = withoutManagedFields } = options;
    this.inner = new ListWatch<T>(path, new SlimWatch(kc, slim), () => listAll((page) => list(labelSelector, fieldSelector, page), slim),
      false, labelSelector, fieldSelector);
    this.inner.on("error", (err: unknown) => {
      this.failedSinceStart = true;
      this.scheduleRestart(err);
    });
    this.inner.on("connect", () => { this.log.debug({ path }, "watch connected"); });
  }

  /** Resolves once the first list has been loaded and the watch is open. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.run();
    await new Promise<void>((resolve) => {
      if (this.syncedOnce) resolve();
      else this.syncWaiters.push(resolve);
    });
  }

  private failed(): boolean {
    return this.failedSinceStart;
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  private async run(): Promise<void> {
    this.failedSinceStart = false;
    try {
      await this.inner.start();
      // The error callback may have run during the await.
      if (this.failed()) return;
      this.backoffMs = MIN_BACKOFF_MS;
      if (!this.syncedOnce && !this.stopped) {
        this.syncedOnce = true;
        for (const resolve of this.syncWaiters.splice(0)) resolve();
      }
    } catch (err) {
      this.scheduleRestart(err);
    }
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.log.warn({ path: this.path, retryInMs: delay, error: describeError(err) }, "watch failed; restarting");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.run();
    }, delay);
    this.restartTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.inner.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.inner.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.inner.list(namespace);
  }

  /** Called for adds, updates and deletes. */
  onChange(listener: Listener<T>): void {
    this.inner.on("change", listener);
  }

  onDelete(listener: Listener<T>): void {
    this.inner.on("delete", listener);
  }
}

/** Every page of a list, as one list (the pages are one consistent snapshot), each item slimmed. */
async function listAll<T extends KubernetesObject>(list: (page: ListPage) => Promise<KubernetesListObject<T>>, slim: Slim<T>): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let page: KubernetesListObject<T>;
  let next: string | undefined;
  do {
    page = await list({ limit: LIST_PAGE_SIZE, _continue: next });
    for (const item of page.items) items.push(slim(item));
    next = page.metadata?._continue || undefined;
  } while (next !== undefined);
  return { ...page, items };
}

const OBJECT_PHASES: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED"]);

/** A Watch whose events carry their objects slimmed as the cache keeps them. */
class SlimWatch<T> extends Watch {
  constructor(kc: KubeConfig, private readonly slim: Slim<T>) {
    super(kc);
  }

  override watch(
    path: string, queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void,
  ): Promise<AbortController> {
    // Only objects are slimmed: an ERROR event carries a Status whose code (410 Gone: relist) ListWatch reads.
    return super.watch(path, queryParams, (phase, apiObj, watchObj) => {
      callback(phase, OBJECT_PHASES.has(phase) ? this.slim(apiObj as T) : apiObj, watchObj);
    }, done);
  }
}
