/**
 * The controller, through the API server only: objects are created, changed and deleted with an
 * admin client, and the outcome (export status, copies, Events, source marks) is polled for.
 * regcred runs as its own ServiceAccount with the chart's RBAC and leads the controller.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeConfig, V1Secret } from "@kubernetes/client-node";
import {
  ANNOTATION_DATA_HASH, ANNOTATION_INJECT, ANNOTATION_NAMESPACE_EXPORTS, ANNOTATION_ON_REVOKE, ANNOTATION_SOURCE_RESOURCE_VERSION, EXPORT_PLURAL,
  FINALIZER_REVOKE_COPIES, GROUP, LABEL_EXPORTED, LABEL_INJECT, VERSION,
} from "../../src/api/names.js";
import { findCondition, isReady, type PullSecretExport, type PullSecretExportSpec } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import {
  SOURCE_NS, conditionIs, createNamespaces, createSource, denyWithPolicy, dockerData, expectedHash, exportEvents, optedInNamespace,
  registryKeysOf, updateSecret, waitForCopy, waitForEvent, waitForExport, waitForGone, waitForSecret, withoutWebhooks, type Auths,
} from "../harness/controllerFixtures.js";
import { clientsFor, createExport, eventually, getExport, pod, readSecret, uniqueName, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";

let admin: KubeConfig;
let c: Clients;
let regcred: TestRegcred;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  regcred = await startTestRegcred(admin);
  await c.core.createNamespace({ body: { metadata: { name: SOURCE_NS } } }).catch(() => undefined);
  // A lease left by an earlier file's replica that did not release it expires after 15 s.
  await eventually("regcred to lead the controller", () => Promise.resolve(regcred.isLeader() ? true : undefined), 40_000);
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await unregisterWebhooks(admin);
  // Undefined when beforeAll failed before regcred started.
  await (regcred as TestRegcred | undefined)?.stop();
});

interface TestExport {
  name: string;
  registry: string;
  copy: string;
  auths: Auths;
}

/** A source (read-only, one registry of its own) and its export; waits until it is Ready when asked. */
async function exportWithSource(spec: PullSecretExportSpec, options: { ready?: boolean; extraRegistries?: string[] } = {}): Promise<TestExport> {
  const name = uniqueName("ctl");
  const registry = `${name}.example.com`;
  const auths: Auths = { [registry]: { username: "puller", password: "one" } };
  for (const r of options.extraRegistries ?? []) auths[r] = { username: "puller", password: `for-${r}` };
  await createSource(c, SOURCE_NS, name, auths);
  await createExport(c, SOURCE_NS, name, spec);
  if (options.ready ?? true) {
    await waitForExport(c, SOURCE_NS, name, "Ready", isReady);
    await eventually(`regcred to see ${name} as admissible`, () => Promise.resolve(regcred.state.admissibleExports().some((e) => e.name === name) ? true : undefined));
  }
  return { name, registry, copy: copyName(SOURCE_NS, name), auths };
}

async function updateExportSpec(name: string, spec: PullSecretExportSpec): Promise<PullSecretExport> {
  const current = await getExport(c, SOURCE_NS, name);
  return await c.custom.replaceNamespacedCustomObject({
    group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: SOURCE_NS, name,
    body: { ...current, spec },
  }) as PullSecretExport;
}

async function deleteExport(name: string): Promise<void> {
  await c.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: SOURCE_NS, name });
}

/** Opts a namespace in or out by its annotation (the namespace webhook mirrors the label). */
async function setOptIn(ns: string, value: "true" | "false"): Promise<void> {
  const current = await c.core.readNamespace({ name: ns });
  current.metadata = { ...current.metadata, annotations: { ...current.metadata?.annotations, [ANNOTATION_INJECT]: value } };
  await c.core.replaceNamespace({ name: ns, body: current });
}

async function podWithCopy(ns: string, exp: TestExport): Promise<V1Secret> {
  const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod(uniqueName("app"), [`${exp.registry}/team/app:1.0`]) });
  expect(stored.spec?.imagePullSecrets).toContainEqual({ name: exp.copy });
  return await waitForCopy(c, ns, exp.copy);
}

async function rotate(exp: TestExport, password: string): Promise<V1Secret> {
  const auths: Auths = { ...exp.auths, [exp.registry]: { username: "puller", password } };
  return await updateSecret(c, SOURCE_NS, exp.name, (s) => { s.data = dockerData(auths); });
}

/** The copy holds the source's current data, hash and resourceVersion. */
function isCurrentCopyOf(source: V1Secret): (s: V1Secret | undefined) => boolean {
  return (s) => s !== undefined && s.data?.[".dockerconfigjson"] === source.data?.[".dockerconfigjson"]
    && s.metadata?.annotations?.[ANNOTATION_DATA_HASH] === expectedHash(source.data)
    && s.metadata.annotations[ANNOTATION_SOURCE_RESOURCE_VERSION] === source.metadata?.resourceVersion;
}

describe("export status", () => {
  it("reports observedGeneration, sourceResourceVersion, registries, copies and the conditions with reasons", async () => {
    const exp = await exportWithSource({ toNamespaces: ["*"] });
    const source = await waitForSecret(c, SOURCE_NS, exp.name, "marked", (s) => s?.metadata?.labels?.[LABEL_EXPORTED] === "true");
    const ready = await waitForExport(c, SOURCE_NS, exp.name, "status for the marked source",
      (e) => e.status?.sourceResourceVersion === source?.metadata?.resourceVersion);
    expect(ready.status).toMatchObject({
      observedGeneration: ready.metadata.generation,
      registries: [exp.registry],
      copies: 0,
      access: { verdict: "ReadOnly", method: "declared" },
    });
    expect(findCondition(ready.status, "Ready")).toMatchObject({ status: "True", reason: "Distributing", observedGeneration: 1 });
    expect(findCondition(ready.status, "CredentialsValid")).toMatchObject({ status: "True", reason: "Valid" });
    expect(findCondition(ready.status, "ReadOnlyVerified")).toMatchObject({ status: "True", reason: "ReadOnly" });
    for (const cond of ready.status?.conditions ?? []) {
      expect(cond.message.length).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(cond.lastTransitionTime))).toBe(false);
    }

    // Two namespaces take a copy (through their first pod): copies counts them.
    const a = await optedInNamespace(c, regcred);
    const b = await optedInNamespace(c, regcred);
    await podWithCopy(a, exp);
    await podWithCopy(b, exp);
    await waitForExport(c, SOURCE_NS, exp.name, "copies: 2", (e) => e.status?.copies === 2);

    // A spec change is observed: observedGeneration follows metadata.generation.
    const updated = await updateExportSpec(exp.name, { toNamespaces: ["*"], verification: { repositories: ["team/app"] } });
    expect(updated.metadata.generation).toBe(2);
    const observed = await waitForExport(c, SOURCE_NS, exp.name, "observedGeneration 2", (e) => e.status?.observedGeneration === 2);
    expect(findCondition(observed.status, "Ready")).toMatchObject({ status: "True", observedGeneration: 2 });
    expect(observed.status?.copies).toBe(2);
  });

  it("reports ReadOnlyVerified Unknown (NotVerified) for a source that declares nothing, and still distributes (verification.mode is not Required)", async () => {
    const name = uniqueName("ctl-undeclared");
    await createSource(c, SOURCE_NS, name, { [`${name}.example.com`]: { username: "u", password: "p" } }, {});
    await createExport(c, SOURCE_NS, name, { toNamespaces: ["*"] });
    const e = await waitForExport(c, SOURCE_NS, name, "Ready", isReady);
    expect(findCondition(e.status, "ReadOnlyVerified")).toMatchObject({ status: "Unknown", reason: "NotVerified" });
    expect(e.status?.access).toMatchObject({ verdict: "Unknown" });
  });

  it("reports SourceNotFound for an export created before its source, then Ready once the source appears, and marks the source", async () => {
    const name = uniqueName("ctl-later");
    const registry = `${name}.example.com`;
    await createExport(c, SOURCE_NS, name, { toNamespaces: ["*"] });
    const missing = await waitForExport(c, SOURCE_NS, name, "SourceNotFound", (e) => conditionIs(e, "CredentialsValid", "False", "SourceNotFound"));
    expect(findCondition(missing.status, "Ready")).toMatchObject({ status: "False", reason: "SourceNotFound" });
    expect(findCondition(missing.status, "ReadOnlyVerified")).toMatchObject({ status: "Unknown", reason: "SourceNotFound" });
    expect(findCondition(missing.status, "CredentialsValid")?.message).toContain(`${SOURCE_NS}/${name}`);

    // Nothing else happens in the cluster meanwhile: the controller must notice the source by itself.
    await createSource(c, SOURCE_NS, name, { [registry]: { username: "puller", password: "p" } });
    const ready = await waitForExport(c, SOURCE_NS, name, "Ready after the source appeared", isReady, 30_000);
    expect(findCondition(ready.status, "CredentialsValid")).toMatchObject({ status: "True", reason: "Valid" });
    expect(ready.status?.registries).toEqual([registry]);
    const source = await waitForSecret(c, SOURCE_NS, name, "marked", (s) =>
      s?.metadata?.labels?.[LABEL_EXPORTED] === "true" && (s.metadata.finalizers ?? []).includes(FINALIZER_REVOKE_COPIES));
    expect(source?.metadata?.finalizers).toContain(FINALIZER_REVOKE_COPIES);
  });

  it("reports SourceMalformed when the source is corrupted behind the webhook's back, stops handing it out, and leaves the copies as they were", async () => {
    const exp = await exportWithSource({ toNamespaces: ["*"] });
    const ns = await optedInNamespace(c, regcred);
    const copy = await podWithCopy(ns, exp);
    const corrupt = (s: V1Secret): void => {
      s.data = { ".dockerconfigjson": Buffer.from(`{"auths":{"${exp.registry}":{"auth":"!!not-base64"}}}`).toString("base64") };
    };

    // Removing the exported label in the same UPDATE does not get past the secrets webhook: its
    // objectSelector matches the old object too.
    await expect(updateSecret(c, SOURCE_NS, exp.name, (s) => {
      corrupt(s);
      delete s.metadata?.labels?.[LABEL_EXPORTED];
    })).rejects.toMatchObject({ code: 403 });

    await withoutWebhooks(admin, regcred, async () => {
      await updateSecret(c, SOURCE_NS, exp.name, corrupt);
    });
    const bad = await waitForExport(c, SOURCE_NS, exp.name, "SourceMalformed", (e) => conditionIs(e, "CredentialsValid", "False", "SourceMalformed"));
    expect(findCondition(bad.status, "Ready")).toMatchObject({ status: "False", reason: "SourceMalformed" });
    expect(findCondition(bad.status, "Ready")?.message).toContain("left as they are");
    expect(findCondition(bad.status, "CredentialsValid")?.message).toContain(exp.registry);

    await eventually("regcred to stop handing the export out", () => Promise.resolve(regcred.state.admissibleExports().some((e) => e.name === exp.name) ? undefined : true));
    await regcred.controller.idle();
    const after = await readSecret(c, ns, exp.copy);
    expect(after?.metadata?.resourceVersion).toBe(copy.metadata?.resourceVersion);
    expect(after?.data).toEqual(copy.data);

    // A pod admitted now does not get the malformed export.
    const other = await optedInNamespace(c, regcred);
    const stored = await c.core.createNamespacedPod({ namespace: other, body: pod("app", [`${exp.registry}/team/app`]) });
    expect(stored.spec?.imagePullSecrets ?? []).not.toContainEqual({ name: exp.copy });
    expect(await readSecret(c, other, exp.copy)).toBeUndefined();
  });
});

describe("Events on the export", () => {
  it("records copies created, updated and revoked, and a CopyConflict that leaves the user's Secret alone", async () => {
    const a = await optedInNamespace(c, regcred);
    const b = await optedInNamespace(c, regcred);
    const mine = await optedInNamespace(c, regcred);
    const name = uniqueName("ctl-events");
    const copy = copyName(SOURCE_NS, name);
    const userSecret = await c.core.createNamespacedSecret({
      namespace: mine, body: { metadata: { name: copy }, type: "Opaque", data: { mine: Buffer.from("keep me").toString("base64") } },
    });
    await createSource(c, SOURCE_NS, name, { [`${name}.example.com`]: { username: "puller", password: "one" } });
    await createExport(c, SOURCE_NS, name, { toNamespaces: [a, b, mine], provisioning: "Eager" });
    const exp: TestExport = { name, registry: `${name}.example.com`, copy, auths: { [`${name}.example.com`]: { username: "puller", password: "one" } } };

    await waitForEvent(c, SOURCE_NS, name, "CopyCreated", (e) => e.message?.includes(a) ?? false);
    await waitForEvent(c, SOURCE_NS, name, "CopyCreated", (e) => e.message?.includes(b) ?? false);
    const conflict = await waitForEvent(c, SOURCE_NS, name, "CopyConflict", (e) => e.message?.includes(mine) ?? false);
    expect(conflict.type).toBe("Warning");
    expect(conflict.involvedObject).toMatchObject({ kind: "PullSecretExport", namespace: SOURCE_NS, name, apiVersion: `${GROUP}/${VERSION}` });

    const rotated = await rotate(exp, "Ev3nts-Pa55word");
    const updated = await waitForEvent(c, SOURCE_NS, name, "CopyUpdated", (e) => e.message?.includes(a) ?? false);
    expect(updated.type).toBe("Normal");
    await waitForSecret(c, b, copy, "rotated", isCurrentCopyOf(rotated));

    await setOptIn(b, "false");
    const revoked = await waitForEvent(c, SOURCE_NS, name, "CopyRevoked", (e) => e.message?.includes(b) ?? false);
    expect(revoked.type).toBe("Normal");
    await waitForGone(c, b, copy);

    // The user's Secret was never modified, through creation, rotation and revocation.
    await regcred.controller.idle();
    const after = await readSecret(c, mine, copy);
    expect(after?.metadata?.resourceVersion).toBe(userSecret.metadata?.resourceVersion);
    expect(after?.data).toEqual({ mine: Buffer.from("keep me").toString("base64") });
    expect(after?.type).toBe("Opaque");
    const e = await getExport(c, SOURCE_NS, name);
    expect(e.status?.copies).toBe(1);

    // No credential reaches an Event.
    for (const event of await exportEvents(c, SOURCE_NS, name)) {
      expect(event.message ?? "").not.toContain("Ev3nts-Pa55word");
      expect(event.message ?? "").not.toContain(Buffer.from("puller:Ev3nts-Pa55word").toString("base64"));
    }
  });
});

describe("rotation", () => {
  it("updates every copy to the source's new data and data-hash", async () => {
    const exp = await exportWithSource({ toNamespaces: ["*"] });
    const namespaces = [await optedInNamespace(c, regcred), await optedInNamespace(c, regcred), await optedInNamespace(c, regcred)];
    const before = await Promise.all(namespaces.map((ns) => podWithCopy(ns, exp)));
    const source = await readSecret(c, SOURCE_NS, exp.name);
    for (const copy of before) expect(copy.data).toEqual(source?.data);
    // Copies written at admission (OnDemand) are announced on the export too.
    for (const ns of namespaces) await waitForEvent(c, SOURCE_NS, exp.name, "CopyCreated", (e) => e.message?.includes(ns) ?? false);

    const rotated = await rotate(exp, "rotated-password");
    expect(rotated.data).not.toEqual(source?.data);
    for (const ns of namespaces) {
      const copy = await waitForSecret(c, ns, exp.copy, "rotated", isCurrentCopyOf(rotated));
      expect(copy?.data).toEqual(rotated.data);
      await waitForEvent(c, SOURCE_NS, exp.name, "CopyUpdated", (e) => e.message?.includes(ns) ?? false);
    }
    const status = await waitForExport(c, SOURCE_NS, exp.name, "new sourceResourceVersion",
      (e) => e.status?.sourceResourceVersion === rotated.metadata?.resourceVersion && e.status?.copies === 3);
    expect(isReady(status)).toBe(true);
  });
});

describe("revocation with onRevoke: Delete", () => {
  it("deletes the copy of a namespace that opts out", async () => {
    const exp = await exportWithSource({ toNamespaces: ["*"] });
    const out = await optedInNamespace(c, regcred);
    const stays = await optedInNamespace(c, regcred);
    await podWithCopy(out, exp);
    await podWithCopy(stays, exp);
    await setOptIn(out, "false");
    await waitForGone(c, out, exp.copy);
    await waitForExport(c, SOURCE_NS, exp.name, "copies: 1", (e) => e.status?.copies === 1);
    expect(await readSecret(c, stays, exp.copy)).toBeDefined();
  });

  it("deletes the copy of a namespace the export no longer lists in toNamespaces", async () => {
    const a = await optedInNamespace(c, regcred);
    const b = await optedInNamespace(c, regcred);
    const exp = await exportWithSource({ toNamespaces: [a, b], provisioning: "Eager" });
    await waitForCopy(c, a, exp.copy);
    await waitForCopy(c, b, exp.copy);
    await updateExportSpec(exp.name, { toNamespaces: [b], provisioning: "Eager" });
    await waitForGone(c, a, exp.copy);
    const e = await waitForExport(c, SOURCE_NS, exp.name, "observedGeneration 2, copies 1", (x) => x.status?.observedGeneration === 2 && x.status.copies === 1);
    expect(isReady(e)).toBe(true);
    expect(await readSecret(c, b, exp.copy)).toBeDefined();
  });

  it("deletes the copy of a namespace the export's namespaceSelector no longer matches", async () => {
    const key = `ctl.test/${uniqueName("sel")}`;
    const a = await optedInNamespace(c, regcred, { [key]: "yes" });
    const b = await optedInNamespace(c, regcred, { [key]: "yes", "ctl.test/tier": "gold" });
    const exp = await exportWithSource({ namespaceSelector: { matchLabels: { [key]: "yes" } }, provisioning: "Eager" });
    await waitForCopy(c, a, exp.copy);
    await waitForCopy(c, b, exp.copy);
    await updateExportSpec(exp.name, { namespaceSelector: { matchLabels: { [key]: "yes" }, matchExpressions: [{ key: "ctl.test/tier", operator: "In", values: ["gold"] }] }, provisioning: "Eager" });
    await waitForGone(c, a, exp.copy);
    await waitForExport(c, SOURCE_NS, exp.name, "copies 1", (x) => x.status?.observedGeneration === 2 && x.status.copies === 1);
    expect(await readSecret(c, b, exp.copy)).toBeDefined();
  });

  it("keeps only the listed registry keys in the copy when the export is narrowed by registries", async () => {
    const ns = await optedInNamespace(c, regcred);
    const other = `${uniqueName("other")}.example.com`;
    const exp = await exportWithSource({ toNamespaces: [ns], provisioning: "Eager" }, { extraRegistries: [other] });
    const full = await waitForCopy(c, ns, exp.copy);
    expect(registryKeysOf(full)).toEqual([exp.registry, other].sort());

    await updateExportSpec(exp.name, { toNamespaces: [ns], provisioning: "Eager", registries: [exp.registry] });
    const narrowed = await waitForSecret(c, ns, exp.copy, "only the listed registry", (s) => registryKeysOf(s).join() === exp.registry);
    expect(narrowed?.metadata?.annotations?.[ANNOTATION_DATA_HASH]).toBe(expectedHash(narrowed?.data));
    expect(narrowed?.metadata?.resourceVersion).not.toBe(full.metadata?.resourceVersion);
    const e = await waitForExport(c, SOURCE_NS, exp.name, "registries narrowed", (x) => x.status?.observedGeneration === 2 && x.status.copies === 1);
    expect(e.status?.registries).toEqual([exp.registry]);
    // The credentials of the other registry are gone from the copy, not merely hidden.
    expect(Buffer.from(narrowed?.data?.[".dockerconfigjson"] ?? "", "base64").toString()).not.toContain(other);
  });

  it("deletes every copy when the export is deleted, and releases the source", async () => {
    const a = await optedInNamespace(c, regcred);
    const b = await optedInNamespace(c, regcred);
    const exp = await exportWithSource({ toNamespaces: [a, b], provisioning: "Eager" });
    await waitForCopy(c, a, exp.copy);
    await waitForCopy(c, b, exp.copy);
    await deleteExport(exp.name);
    await waitForGone(c, a, exp.copy);
    await waitForGone(c, b, exp.copy);
    const source = await waitForSecret(c, SOURCE_NS, exp.name, "released", (s) =>
      s !== undefined && s.metadata?.labels?.[LABEL_EXPORTED] === undefined && !(s.metadata?.finalizers ?? []).includes(FINALIZER_REVOKE_COPIES));
    expect(source?.data).toEqual(dockerData(exp.auths));
  });

  it("deletes every copy when the source is deleted, then lets the source go", async () => {
    const a = await optedInNamespace(c, regcred);
    const b = await optedInNamespace(c, regcred);
    const exp = await exportWithSource({ toNamespaces: [a, b], provisioning: "Eager" });
    await waitForCopy(c, a, exp.copy);
    await waitForCopy(c, b, exp.copy);
    await waitForSecret(c, SOURCE_NS, exp.name, "finalizer", (s) => (s?.metadata?.finalizers ?? []).includes(FINALIZER_REVOKE_COPIES));
    await c.core.deleteNamespacedSecret({ namespace: SOURCE_NS, name: exp.name });
    await waitForGone(c, a, exp.copy);
    await waitForGone(c, b, exp.copy);
    await waitForGone(c, SOURCE_NS, exp.name);
    const e = await waitForExport(c, SOURCE_NS, exp.name, "SourceNotFound", (x) => conditionIs(x, "CredentialsValid", "False", "SourceNotFound"));
    expect(findCondition(e.status, "Ready")).toMatchObject({ status: "False", reason: "SourceNotFound" });
    expect(e.status?.copies).toBe(0);
  });
});

describe("revocation with onRevoke: Orphan", () => {
  it("leaves the copy after an opt-out and after the export is deleted", async () => {
    const out = await optedInNamespace(c, regcred);
    const stays = await optedInNamespace(c, regcred);
    const exp = await exportWithSource({ toNamespaces: [out, stays], provisioning: "Eager", onRevoke: "Orphan" });
    const outCopy = await waitForCopy(c, out, exp.copy);
    await waitForCopy(c, stays, exp.copy);
    expect(outCopy.metadata?.annotations?.[ANNOTATION_ON_REVOKE]).toBe("Orphan");
    await waitForExport(c, SOURCE_NS, exp.name, "copies 2", (x) => x.status?.copies === 2);

    await setOptIn(out, "false");
    // The controller has seen the opt-out (copies 1) and left the copy.
    await waitForExport(c, SOURCE_NS, exp.name, "copies 1", (x) => x.status?.copies === 1);
    await regcred.controller.idle();
    expect((await readSecret(c, out, exp.copy))?.metadata?.resourceVersion).toBe(outCopy.metadata?.resourceVersion);

    await deleteExport(exp.name);
    // The controller has handled the deletion (it released the source) and left both copies.
    await waitForSecret(c, SOURCE_NS, exp.name, "released", (s) => s !== undefined && s.metadata?.labels?.[LABEL_EXPORTED] === undefined);
    await regcred.controller.idle();
    expect(await readSecret(c, out, exp.copy)).toBeDefined();
    expect(await readSecret(c, stays, exp.copy)).toBeDefined();
  });
});

describe("provisioning: Eager", () => {
  it("writes copies into every eligible namespace without a pod, including a later one, and counts them", async () => {
    const key = `ctl.test/${uniqueName("eager")}`;
    const eligible = [
      await optedInNamespace(c, regcred, { [key]: "yes" }),
      await optedInNamespace(c, regcred, { [key]: "yes" }),
      await optedInNamespace(c, regcred, { [key]: "yes" }),
    ];
    const notOptedIn = uniqueName("plain");
    await c.core.createNamespace({ body: { metadata: { name: notOptedIn, labels: { [key]: "yes" } } } });
    const optedOut = uniqueName("out");
    await c.core.createNamespace({ body: { metadata: { name: optedOut, labels: { [key]: "yes" }, annotations: { [ANNOTATION_INJECT]: "false" } } } });
    const wantsOthers = uniqueName("others");
    await c.core.createNamespace({ body: { metadata: {
      name: wantsOthers, labels: { [key]: "yes" },
      annotations: { [ANNOTATION_INJECT]: "true", [ANNOTATION_NAMESPACE_EXPORTS]: `${SOURCE_NS}/something-else` },
    } } });
    await eventually("regcred to see the exports limit", () => Promise.resolve(regcred.state.namespace(wantsOthers)?.annotations[ANNOTATION_NAMESPACE_EXPORTS] ? true : undefined));

    const exp = await exportWithSource({ namespaceSelector: { matchLabels: { [key]: "yes" } }, provisioning: "Eager" });
    for (const ns of eligible) await waitForCopy(c, ns, exp.copy);
    await waitForExport(c, SOURCE_NS, exp.name, "copies 3", (e) => e.status?.copies === 3);

    const later = await optedInNamespace(c, regcred, { [key]: "yes" }, "later");
    await waitForCopy(c, later, exp.copy);
    await waitForExport(c, SOURCE_NS, exp.name, "copies 4", (e) => e.status?.copies === 4);

    await regcred.controller.idle();
    for (const ns of [notOptedIn, optedOut, wantsOthers]) expect(await readSecret(c, ns, exp.copy), ns).toBeUndefined();
    const labelled = await c.core.listSecretForAllNamespaces({ labelSelector: `regcred.dev/export=${exp.name}` });
    expect(labelled.items.map((s) => s.metadata?.namespace).sort()).toEqual([...eligible, later].sort());
  });
});

describe("namespace label backfill", () => {
  it("labels a namespace whose annotation the namespace webhook never saw", async () => {
    const name = uniqueName("backfill");
    await withoutWebhooks(admin, regcred, async () => {
      const created = await c.core.createNamespace({ body: { metadata: { name, annotations: { [ANNOTATION_INJECT]: "true" } } } });
      expect(created.metadata?.labels?.[LABEL_INJECT]).toBeUndefined();
      await eventually("the controller to backfill the label", async () =>
        ((await c.core.readNamespace({ name })).metadata?.labels?.[LABEL_INJECT] === "true" ? true : undefined));
    });
  });
});

describe("deferred copies", () => {
  it("creates the copy shortly after a pod was admitted while the copy write was refused", async () => {
    const exp = await exportWithSource({ toNamespaces: ["*"] });
    const ns = await optedInNamespace(c, regcred);
    const policy = uniqueName("regcred-test-deny-copies");
    const remove = await denyWithPolicy(admin, {
      name: policy, resources: ["secrets"], operations: ["CREATE", "UPDATE"], namespace: ns,
      expression: "false", message: `${policy}: secret writes are refused in this namespace`,
      probe: () => c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "probe" }, type: "Opaque" }, dryRun: "All" }),
    });
    cleanups.push(remove);
    const res = await c.core.createNamespacedPodWithHttpInfo({ namespace: ns, body: pod("app", [`${exp.registry}/team/app:1.0`]) });
    expect(res.data.spec?.imagePullSecrets).toContainEqual({ name: exp.copy });
    expect(res.headers.warning ?? "").toContain("could not be written yet");
    expect(await readSecret(c, ns, exp.copy)).toBeUndefined();
    // Still refused after the first background retry (about 1 s later).
    await sleep(1500);
    expect(await readSecret(c, ns, exp.copy)).toBeUndefined();

    await remove();
    const copy = await waitForCopy(c, ns, exp.copy, 30_000);
    const source = await readSecret(c, SOURCE_NS, exp.name);
    expect(copy.data).toEqual(source?.data);
  });
});

describe("provisioning: Eager at scale", () => {
  it("writes a current copy into each of 500 opted-in namespaces and reports copies: 500", async () => {
    const key = `ctl.test/${uniqueName("scale")}`;
    const names = Array.from({ length: 500 }, (_, i) => `${key.slice(9)}-${i}`);
    const started = Date.now();
    const exp = await exportWithSource({ namespaceSelector: { matchLabels: { [key]: "yes" } }, provisioning: "Eager" });
    await createNamespaces(c, names, { [ANNOTATION_INJECT]: "true" }, { [key]: "yes" });
    const e = await waitForExport(c, SOURCE_NS, exp.name, "copies: 500", (x) => x.status?.copies === 500, 120_000);
    expect(isReady(e)).toBe(true);
    const source = await readSecret(c, SOURCE_NS, exp.name);
    const copies = await c.core.listSecretForAllNamespaces({ labelSelector: `regcred.dev/export=${exp.name}` });
    expect(copies.items).toHaveLength(500);
    expect(new Set(copies.items.map((s) => s.metadata?.namespace))).toEqual(new Set(names));
    for (const copy of copies.items) expect(isCurrentCopyOf(source ?? {})(copy)).toBe(true);
    console.log(`[controller.test] 500 namespaces + 500 Eager copies in ${Date.now() - started} ms`);
  }, 180_000);
});
