import { V1MicroTime, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../observability/logger.js";
import { describeError, statusCodeOf } from "../observability/errors.js";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => Date;
}

export interface LeaderCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the holder
 * renews every retry period; a candidate takes the lease only once it has not been renewed for a
 * whole lease duration; a leader that cannot renew within the renew deadline stops leading.
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private readonly leaseMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => Date;
  private loop: Promise<void> | undefined;

  constructor(private readonly api: CoordinationV1Api, private readonly options: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks, private readonly log: Logger) {
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.deadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2_000;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A Lease holds whole seconds. Round up, never to 0: a lease written shorter than the renew
   * deadline (or of 0 s, always expired) would let another candidate lead while this one still does.
   */
  private get leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseMs / 1000));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** stop() may run while the loop awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader gives the lease up at once so another replica need not wait. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      await this.release();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let acquired = false;
      try {
        acquired = await this.tryAcquireOrRenew();
      } catch (err) {
        this.log.debug({ error: describeError(err) }, "lease update failed");
      }
      const t = this.now().getTime();
      if (acquired) {
        this.lastRenew = t;
        this.setLeading(true);
      } else if (this.leading && t - this.lastRenew > this.deadlineMs) {
        this.log.warn("could not renew the leader lease within the renew deadline; stepping down");
        this.setLeading(false);
      }
      if (!this.isStopped()) await sleep(this.retryMs);
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.log.info({ identity: this.options.identity, lease: this.options.name }, leading ? "became leader" : "stopped leading");
    if (leading) this.callbacks.onStartedLeading();
    else this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    // Lease times are MicroTime: the API server wants six fractional digits.
    const now = new V1MicroTime(this.now().getTime());
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
      await this.api.createNamespacedLease({ namespace, body: {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      } });
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const duration = (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000;
    if (holder !== "" && holder !== identity && renewed + duration > now.getTime()) return false;
    const taking = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseSeconds,
      renewTime: now,
      ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    // The resourceVersion in the body makes this a compare-and-swap: two candidates cannot both win.
    await this.api.replaceNamespacedLease({ namespace, name, body: lease });
    return true;
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new V1MicroTime(this.now().getTime()) };
      await this.api.replaceNamespacedLease({ namespace, name, body: lease });
      this.log.info("leader lease released");
    } catch (err) {
      this.log.warn({ error: describeError(err) }, "could not release the leader lease");
    }
  }
}
