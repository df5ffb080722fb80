import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";

export type Listener<T> = (obj: T) => void;

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
    list: (labelSelector: string | undefined, fieldSelector: string | undefined) => Promise<KubernetesListObject<T>>,
    private readonly log: Logger,
    labelSelector?: string,
    fieldSelector?: string,
  ) {
    this.inner = new ListWatch<T>(path, new Watch(kc), () => list(labelSelector, fieldSelector), false, labelSelector, fieldSelector);
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
