import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { copyIsCurrent, copySecret, isRegcredCopy, type CopyTemplate } from "../copies/desired.js";
import type { Metrics } from "../observability/metrics.js";
import { describeError, statusCodeOf } from "../observability/errors.js";
import type { Logger } from "../observability/logger.js";
import type { CopyWriteMemory } from "./state.js";

export type EnsureResult =
  | { result: "created" | "updated" | "unchanged" }
  | { result: "conflict" }
  | { result: "failed"; reason: string };

/** How long a known conflict with a user's Secret is trusted before the API server is asked again. */
const CONFLICT_TTL_MS = 30_000;
/** How long a write is remembered while the watch catches up. */
const RECENT_TTL_MS = 60_000;
const MAX_ATTEMPTS = 3;

/**
 * Creates and updates copies. One write at a time per (namespace, copy): concurrent callers for the
 * same copy share the write in flight, so a Deployment scaling to 100 causes one write, not 100.
 * A Secret of the copy's name that is not regcred's is never changed: that is a conflict.
 */
export class CopyWriter implements CopyWriteMemory {
  private readonly inFlight = new Map<string, Promise<EnsureResult>>();
  private readonly recent = new Map<string, { hash: string; at: number }>();
  private readonly conflicts = new Map<string, number>();
  private readonly deferred = new Set<string>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly cached: (namespace: string, name: string) => V1Secret | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  ensure(namespace: string, template: CopyTemplate): Promise<EnsureResult> {
    const key = `${namespace}/${template.name}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const write = this.write(namespace, template).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, write);
    return write;
  }

  recentHash(namespace: string, name: string): string | undefined {
    const key = `${namespace}/${name}`;
    const entry = this.recent.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at > RECENT_TTL_MS) {
      this.recent.delete(key);
      return undefined;
    }
    return entry.hash;
  }

  isConflict(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const at = this.conflicts.get(key);
    if (at === undefined) return false;
    if (this.now() - at > CONFLICT_TTL_MS) {
      this.conflicts.delete(key);
      return false;
    }
    return true;
  }

  /**
   * Keeps trying a copy whose write failed at admission (the pod was admitted with the reference;
   * the kubelet retries its pulls): backoff from 1 s, for up to about 10 minutes.
   */
  retryInBackground(namespace: string, template: CopyTemplate, attempt = 1): void {
    const key = `${namespace}/${template.name}`;
    if (attempt === 1 && this.deferred.has(key)) return;
    this.deferred.add(key);
    const delay = Math.min(1000 * 2 ** (attempt - 1), 60_000);
    const timer = setTimeout(() => {
      void this.ensure(namespace, template).then((outcome) => {
        if (outcome.result === "failed" && attempt < 15) this.retryInBackground(namespace, template, attempt + 1);
        else this.deferred.delete(key);
      });
    }, delay);
    timer.unref();
  }

  /** Forget what was learned about a copy (it was deleted, or the user's Secret went away). */
  forget(namespace: string, name: string): void {
    this.recent.delete(`${namespace}/${name}`);
    this.conflicts.delete(`${namespace}/${name}`);
  }

  private async write(namespace: string, template: CopyTemplate): Promise<EnsureResult> {
    const desired = copySecret(template, namespace);
    let existing = this.cached(namespace, template.name);
    let reread = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        if (reread) existing = await this.read(namespace, template.name);
        const outcome = existing ? await this.update(namespace, existing, desired, template) : await this.create(namespace, desired);
        if (outcome.result === "conflict") this.conflicts.set(`${namespace}/${template.name}`, this.now());
        else this.remember(namespace, template);
        this.metrics.recordCopyWrite(outcome.result);
        return outcome;
      } catch (err) {
        const code = statusCodeOf(err);
        if ((code === 409 || code === 404) && attempt < MAX_ATTEMPTS) {
          // Someone else wrote it first (409), or the copy we knew of was deleted (404): look again.
          reread = true;
          continue;
        }
        const reason = describeError(err);
        this.log.warn({ namespace, copy: template.name, error: reason }, "copy write failed");
        this.metrics.recordCopyWrite("failed");
        return { result: "failed", reason };
      }
    }
    return { result: "failed", reason: "the copy kept changing while regcred wrote it" };
  }

  private async create(namespace: string, desired: V1Secret): Promise<EnsureResult> {
    await this.core.createNamespacedSecret({ namespace, body: desired });
    this.log.info({ namespace, copy: desired.metadata?.name }, "copy created");
    return { result: "created" };
  }

  private async update(namespace: string, existing: V1Secret, desired: V1Secret, template: CopyTemplate): Promise<EnsureResult> {
    if (!isRegcredCopy(existing)) return { result: "conflict" };
    if (copyIsCurrent(existing, template)) return { result: "unchanged" };
    const body: V1Secret = { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion } };
    await this.core.replaceNamespacedSecret({ namespace, name: template.name, body });
    this.log.info({ namespace, copy: template.name }, "copy updated");
    return { result: "updated" };
  }

  private async read(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  }

  private remember(namespace: string, template: CopyTemplate): void {
    this.recent.set(`${namespace}/${template.name}`, { hash: template.dataHash, at: this.now() });
  }
}
