/**
 * Leader election between regcred replicas: several instances in one process, each as regcred's
 * ServiceAccount, all on the Lease regcred-controller in regcred-system. Every replica serves the
 * webhooks (the API server is pointed at one of them); only the leader runs the controller.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CoordinationV1Api, type KubeConfig, type V1Lease, type V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_DATA_HASH } from "../../src/api/names.js";
import { isReady } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import {
  SOURCE_NS, createSource, denyWithPolicy, dockerData, expectedHash, optedInNamespace, updateSecret, waitForCopy, waitForExport,
  waitForSecret, type Auths,
} from "../harness/controllerFixtures.js";
import { clientsFor, createExport, eventually, uniqueName, type Clients } from "../harness/fixtures.js";
import { REGCRED_NAMESPACE, adminKubeConfig, registerWebhooks, startTestRegcred, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";

const LEASE = "regcred-controller";
/** The elector's lease duration (client-go's default, which regcred uses). */
const LEASE_DURATION_MS = 15_000;

let admin: KubeConfig;
let c: Clients;
let leases: CoordinationV1Api;
const running: TestRegcred[] = [];
/** The replica the API server's webhook configurations point at. */
let serving: TestRegcred | undefined;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  leases = admin.makeApiClient(CoordinationV1Api);
  await c.core.createNamespace({ body: { metadata: { name: SOURCE_NS } } }).catch(() => undefined);
  const first = await startTestRegcred(admin);
  serving = first;
  running.push(first, await startTestRegcred(admin, {}, { register: false }));
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await unregisterWebhooks(admin);
  for (const r of running.splice(0)) await r.stop();
});

function leaders(): TestRegcred[] {
  return running.filter((r) => r.isLeader());
}

async function theLeader(timeoutMs = 40_000): Promise<TestRegcred> {
  // A lease left by an earlier file's replica that did not release it expires after 15 s.
  return await eventually("exactly one replica to lead", () => {
    const l = leaders();
    return Promise.resolve(l.length === 1 ? l[0] : undefined);
  }, timeoutMs);
}

async function readLease(): Promise<V1Lease> {
  return await leases.readNamespacedLease({ namespace: REGCRED_NAMESPACE, name: LEASE });
}

/** Points the API server's webhooks away from `r` (every replica serves them), then stops `r`. */
async function stopReplica(r: TestRegcred): Promise<void> {
  const others = running.filter((x) => x !== r);
  const next = others[0];
  if (serving === r && next) {
    await registerWebhooks(admin, next.url, next.caBundle, next.settings);
    serving = next;
  }
  await r.stop();
  running.splice(running.indexOf(r), 1);
}

/** A Ready Eager export to two fresh namespaces, with both copies written. */
async function distributedExport(): Promise<{ name: string; registry: string; copy: string; namespaces: string[] }> {
  const ref = running[0];
  if (!ref) throw new Error("no replica running");
  const namespaces = [await optedInNamespace(c, ref), await optedInNamespace(c, ref)];
  const name = uniqueName("lead");
  const registry = `${name}.example.com`;
  await createSource(c, SOURCE_NS, name, { [registry]: { username: "puller", password: "before" } });
  await createExport(c, SOURCE_NS, name, { toNamespaces: namespaces, provisioning: "Eager" });
  await waitForExport(c, SOURCE_NS, name, "Ready", isReady);
  const copy = copyName(SOURCE_NS, name);
  for (const ns of namespaces) await waitForCopy(c, ns, copy);
  return { name, registry, copy, namespaces };
}

async function rotate(name: string, registry: string, password: string): Promise<V1Secret> {
  const auths: Auths = { [registry]: { username: "puller", password } };
  return await updateSecret(c, SOURCE_NS, name, (s) => { s.data = dockerData(auths); });
}

async function expectRotated(namespaces: readonly string[], copy: string, source: V1Secret, timeoutMs = 20_000): Promise<void> {
  for (const ns of namespaces) {
    const s = await waitForSecret(c, ns, copy, "rotated by the new leader", (x) =>
      x?.data?.[".dockerconfigjson"] === source.data?.[".dockerconfigjson"], timeoutMs);
    expect(s?.metadata?.annotations?.[ANNOTATION_DATA_HASH]).toBe(expectedHash(source.data));
  }
}

describe("leader election", () => {
  it("lets exactly one of two replicas lead", async () => {
    const leader = await theLeader();
    // It stays that way over several retry periods (2 s each).
    for (let i = 0; i < 25; i++) {
      expect(leaders()).toEqual([leader]);
      await sleep(200);
    }
    const lease = await readLease();
    expect(lease.spec?.holderIdentity).toBeTruthy();
    expect(lease.spec?.leaseDurationSeconds).toBe(LEASE_DURATION_MS / 1000);
  }, 60_000);

  it("hands over within 20 s when the leader stops, and the new leader propagates a rotation made after the stop", async () => {
    const exp = await distributedExport();
    const leader = await theLeader();
    const follower = running.find((r) => r !== leader);
    if (!follower) throw new Error("no follower");
    const before = await readLease();

    await stopReplica(leader);
    const stoppedAt = Date.now();
    const rotated = await rotate(exp.name, exp.registry, "after-the-stop");
    await eventually("the follower to lead", () => Promise.resolve(follower.isLeader() ? true : undefined), 20_000, 50);
    const handover = Date.now() - stoppedAt;
    expect(handover).toBeLessThan(20_000);
    expect(leaders()).toEqual([follower]);

    await expectRotated(exp.namespaces, exp.copy, rotated);
    const after = await readLease();
    expect(after.spec?.holderIdentity).toBeTruthy();
    expect(after.spec?.holderIdentity).not.toBe(before.spec?.holderIdentity);
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
    console.log(`[leader.test] handover after a released lease: ${handover} ms`);
  }, 60_000);

  it("takes over only after the lease duration when the leader dies without releasing the lease", async () => {
    running.push(await startTestRegcred(admin, {}, { register: false }));
    const exp = await distributedExport();
    const leader = await theLeader();
    const candidate = running.find((r) => r !== leader);
    if (!candidate) throw new Error("no candidate");
    // Webhooks away from the leader first, so that "killing" it below leaves them served.
    if (serving === leader) {
      await registerWebhooks(admin, candidate.url, candidate.caBundle, candidate.settings);
      serving = candidate;
    }
    const holder = (await readLease()).spec?.holderIdentity ?? "";
    expect(holder).not.toBe("");

    // The API server refuses every renewal and the release of the lease by its holder (a dead
    // process sends neither); a takeover by another identity is allowed.
    const policy = uniqueName("regcred-test-frozen-lease");
    const remove = await denyWithPolicy(admin, {
      name: policy, apiGroups: ["coordination.k8s.io"], resources: ["leases"], operations: ["UPDATE"], resourceNames: [LEASE],
      namespace: REGCRED_NAMESPACE,
      expression: `!(has(oldObject.spec.holderIdentity) && oldObject.spec.holderIdentity == '${holder}' && (!has(object.spec.holderIdentity) || object.spec.holderIdentity == '${holder}' || object.spec.holderIdentity == ''))`,
      message: `${policy}: the lease holder is gone`,
      probe: async () => {
        // Read fresh each time: until the policy holds, the leader's renewals change the resourceVersion.
        const lease = await readLease();
        return leases.replaceNamespacedLease({ namespace: REGCRED_NAMESPACE, name: LEASE, body: lease, dryRun: "All" });
      },
    });
    cleanups.push(remove);
    const frozen = await readLease();
    expect(frozen.spec?.holderIdentity).toBe(holder);
    const lastRenew = new Date(frozen.spec?.renewTime ?? 0).getTime();

    await stopReplica(leader);
    expect(leader.logs()).toContain("could not release the leader lease");
    const rotated = await rotate(exp.name, exp.registry, "after-the-crash");

    const ledAt = await eventually("the candidate to take the expired lease", () =>
      Promise.resolve(candidate.isLeader() ? Date.now() : undefined), 40_000, 50);
    const waited = ledAt - lastRenew;
    // Not before the lease expired (a little slack for timestamp rounding), and soon after it did.
    expect(waited).toBeGreaterThanOrEqual(LEASE_DURATION_MS - 500);
    expect(waited).toBeLessThan(LEASE_DURATION_MS + 10_000);
    expect(leaders()).toEqual([candidate]);
    const taken = await readLease();
    expect(taken.spec?.holderIdentity).not.toBe(holder);
    expect(new Date(taken.spec?.acquireTime ?? 0).getTime() - lastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS - 500);

    await expectRotated(exp.namespaces, exp.copy, rotated);
    await remove();
    console.log(`[leader.test] takeover of an unreleased lease ${waited} ms after its last renewal`);
  }, 120_000);
});
