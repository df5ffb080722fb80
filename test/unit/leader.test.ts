import { describe, it, expect, afterEach } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import { LeaderElector } from "../../src/controller/leader.js";
import type { LeaderElectionOptions } from "../../src/controller/leader.js";
import { createLogger } from "../../src/observability/logger.js";

const LOG = createLogger("silent");
const TIMINGS = { leaseDurationMs: 300, renewDeadlineMs: 200, retryPeriodMs: 50 };

/** Shaped like the client library's ApiException: an Error with the HTTP code and the Status body. */
function apiError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP-Code: ${String(code)}`), { code, body: JSON.stringify({ kind: "Status", code, message }) });
}

/**
 * The part of the Lease API the elector uses, in memory, with the API server's rules: create fails
 * with 409 when the lease exists, read and replace fail with 404 when it does not, and replace is a
 * compare-and-swap on metadata.resourceVersion (409 on a stale one). Each caller gets its own view,
 * whose calls can be made to fail as if its connection to the API server were cut.
 */
class FakeLeaseServer {
  private stored: V1Lease | undefined;
  private version = 0;
  readonly broken = new Set<string>();
  readonly calls: Record<string, number> = {};

  get lease(): V1Lease | undefined {
    return this.stored ? structuredClone(this.stored) : undefined;
  }

  private async enter(who: string): Promise<void> {
    this.calls[who] = (this.calls[who] ?? 0) + 1;
    await sleep(1); // let other callers interleave, as over a network
    if (this.broken.has(who)) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  }

  private save(body: V1Lease): V1Lease {
    this.version++;
    // What the API server stores and returns: plain JSON with a new resourceVersion.
    const lease = JSON.parse(JSON.stringify(body)) as V1Lease;
    lease.metadata = { ...lease.metadata, resourceVersion: String(this.version) };
    this.stored = lease;
    return structuredClone(lease);
  }

  apiFor(who: string): CoordinationV1Api {
    const api = {
      readNamespacedLease: async (_: { namespace: string; name: string }): Promise<V1Lease> => {
        await this.enter(who);
        if (!this.stored) throw apiError(404, "leases \"regcred\" not found");
        return structuredClone(this.stored);
      },
      createNamespacedLease: async ({ body }: { namespace: string; body: V1Lease }): Promise<V1Lease> => {
        await this.enter(who);
        if (this.stored) throw apiError(409, "already exists");
        return this.save(body);
      },
      replaceNamespacedLease: async ({ body }: { namespace: string; name: string; body: V1Lease }): Promise<V1Lease> => {
        await this.enter(who);
        if (!this.stored) throw apiError(404, "not found");
        if (body.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion) {
          throw apiError(409, "the object has been modified; please apply your changes to the latest version and try again");
        }
        return this.save(body);
      },
    };
    return api as unknown as CoordinationV1Api;
  }
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  leading: boolean;
  started: number[];
  stopped: number[];
}

let running: Candidate[] = [];
let sampler: NodeJS.Timeout | undefined;
let overlaps = 0;

function candidate(server: FakeLeaseServer, id: string, timings: Partial<LeaderElectionOptions> = TIMINGS): Candidate {
  const c: Candidate = { id, leading: false, started: [], stopped: [], elector: undefined as unknown as LeaderElector };
  c.elector = new LeaderElector(server.apiFor(id), { namespace: "regcred-system", name: "regcred", identity: id, ...timings }, {
    onStartedLeading: () => { c.leading = true; c.started.push(Date.now()); },
    onStoppedLeading: () => { c.leading = false; c.stopped.push(Date.now()); },
  }, LOG);
  running.push(c);
  return c;
}

/** Checks every few milliseconds that at most one candidate believes it leads. */
function watchForOverlap(): void {
  sampler = setInterval(() => {
    if (running.filter((c) => c.leading || c.elector.isLeader).length > 1) overlaps++;
  }, 2);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not reached within ${String(timeoutMs)} ms`);
    await sleep(2);
  }
  return Date.now() - start;
}

afterEach(async () => {
  if (sampler) clearInterval(sampler);
  sampler = undefined;
  await Promise.all(running.map((c) => c.elector.stop()));
  running = [];
  overlaps = 0;
});

describe("LeaderElector", () => {
  it("one of two candidates leads, and keeps leading while it can renew", async () => {
    const server = new FakeLeaseServer();
    const a = candidate(server, "replica-a");
    const b = candidate(server, "replica-b");
    watchForOverlap();
    a.elector.start();
    b.elector.start();
    await until(() => a.leading || b.leading, 1000);
    const leader = a.leading ? a : b;
    const other = leader === a ? b : a;
    await sleep(1500);
    expect(leader.leading).toBe(true);
    expect(leader.started).toHaveLength(1);
    expect(leader.stopped).toHaveLength(0);
    expect(other.started).toHaveLength(0);
    expect(server.lease?.spec?.holderIdentity).toBe(leader.id);
    expect(server.lease?.spec?.leaseDurationSeconds).toBeGreaterThanOrEqual(1);
    expect(overlaps).toBe(0);
  });

  it("when the leader stops it releases the lease, and the other takes over without waiting for it to expire", async () => {
    const server = new FakeLeaseServer();
    const a = candidate(server, "replica-a");
    a.elector.start();
    await until(() => a.leading, 1000);
    const b = candidate(server, "replica-b");
    watchForOverlap();
    b.elector.start();
    await sleep(200);
    expect(b.leading).toBe(false);

    await a.elector.stop();
    expect(a.leading).toBe(false);
    expect(a.elector.isLeader).toBe(false);
    expect(a.stopped).toHaveLength(1);
    expect(server.lease?.spec?.holderIdentity).toBe("");
    const waited = await until(() => b.leading, 1000);
    // Quicker than a whole lease duration (at least 1 s: Lease durations are whole seconds).
    expect(waited).toBeLessThan(400);
    expect(server.lease?.spec?.holderIdentity).toBe("replica-b");
    expect(server.lease?.spec?.leaseTransitions).toBe(1);
    expect(overlaps).toBe(0);
  });

  it("a leader whose API calls fail steps down after the renew deadline; the other takes over once the lease expired", async () => {
    const server = new FakeLeaseServer();
    const a = candidate(server, "replica-a");
    a.elector.start();
    await until(() => a.leading, 1000);
    const b = candidate(server, "replica-b");
    watchForOverlap();
    b.elector.start();
    await sleep(300);
    expect(b.leading).toBe(false);

    const lastRenew = new Date(server.lease?.spec?.renewTime ?? 0).getTime();
    const cut = Date.now();
    server.broken.add("replica-a");
    await until(() => !a.leading, 1000);
    const steppedDown = (a.stopped[0] ?? 0) - cut;
    expect(steppedDown).toBeLessThan(TIMINGS.renewDeadlineMs + 3 * TIMINGS.retryPeriodMs);
    expect(b.leading).toBe(false);

    await until(() => b.leading, 3000);
    const leaseMs = (server.lease?.spec?.leaseDurationSeconds ?? 0) * 1000;
    expect(leaseMs).toBeGreaterThan(0);
    // Not before the lease regcred-a held had expired...
    expect((b.started[0] ?? 0) - lastRenew).toBeGreaterThanOrEqual(1000);
    // ...and not long after.
    expect((b.started[0] ?? 0) - lastRenew).toBeLessThan(1000 + 4 * TIMINGS.retryPeriodMs + 100);
    expect(server.lease?.spec?.holderIdentity).toBe("replica-b");
    expect(a.leading).toBe(false);
    expect(overlaps).toBe(0);

    // The old leader, back on the network, does not take the lease back while it is renewed.
    server.broken.delete("replica-a");
    await sleep(600);
    expect(a.leading).toBe(false);
    expect(b.leading).toBe(true);
    expect(overlaps).toBe(0);
  });

  it("never has two leaders among three candidates through stops and outages", async () => {
    const server = new FakeLeaseServer();
    const cs = [candidate(server, "r1"), candidate(server, "r2"), candidate(server, "r3")];
    watchForOverlap();
    for (const c of cs) c.elector.start();
    await until(() => cs.some((c) => c.leading), 1000);
    const first = cs.find((c) => c.leading);
    if (!first) throw new Error("no leader");
    server.broken.add(first.id);
    await until(() => cs.some((c) => c !== first && c.leading), 3000);
    const second = cs.find((c) => c.leading);
    if (!second) throw new Error("no leader");
    server.broken.delete(first.id);
    await second.elector.stop();
    await until(() => cs.some((c) => c !== second && c.leading), 1000);
    await sleep(300);
    expect(cs.filter((c) => c.leading)).toHaveLength(1);
    expect(overlaps).toBe(0);
  });

  it("creates the lease when there is none, and stops campaigning on stop()", async () => {
    const server = new FakeLeaseServer();
    const a = candidate(server, "solo");
    expect(server.lease).toBeUndefined();
    a.elector.start();
    await until(() => a.leading, 1000);
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "solo", leaseTransitions: 0 });
    await a.elector.stop();
    const calls = server.calls.solo ?? 0;
    await sleep(150);
    expect(server.calls.solo).toBe(calls);
  });
});
