/**
 * Write-access probes against real registries on loopback (see test/harness/registries.ts): a
 * basic-auth registry (distribution behind nginx, reader may only GET/HEAD) for the upload probe,
 * and a token-auth registry (distribution + the distribution token server) for the token-scope
 * probe, with regcred running as its own ServiceAccount and its webhooks called by a real API server.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeConfig, V1Secret } from "@kubernetes/client-node";
import { Agent, request } from "undici";
import { EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import { isReady, type PullSecretExport, type PullSecretExportSpec } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import {
  clientsFor, createNamespace, deniedMessage, dockerConfigJson, eventually, getExport, pod, readSecret, sourceSecret, uniqueName, type Clients,
} from "../harness/fixtures.js";
import { adminKubeConfig, registerWebhooks, startTestRegcred, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";
import { startRegistries, storageState, type Registries, type TestRegistry, type User } from "../harness/registries.js";

const SOURCE_NS = "registry-creds";

let admin: KubeConfig;
let c: Clients;
let regs: Registries;
let regcred: TestRegcred | undefined;
let agent: Agent;

beforeAll(async () => {
  regs = await startRegistries();
  agent = new Agent({ connect: { ca: regs.caPem } });
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  await createNamespace(c, SOURCE_NS).catch(() => undefined);
}, 900_000);

afterAll(async () => {
  await stopRegcred();
  await agent.close();
  await regs.stop();
});

async function useRegcred(env: Record<string, string>): Promise<TestRegcred> {
  await stopRegcred();
  // The harness defaults to DeclaredOnly (other tests use made-up registries): probe here.
  regcred = await startTestRegcred(admin, { REGCRED_REGISTRY_CA_FILE: regs.caFile, REGCRED_VERIFICATION_MODE: "BestEffort", ...env });
  return regcred;
}

async function stopRegcred(): Promise<void> {
  if (!regcred) return;
  await unregisterWebhooks(admin);
  await regcred.stop();
  regcred = undefined;
}

function current(): TestRegcred {
  if (!regcred) throw new Error("regcred is not running");
  return regcred;
}

// --- helpers -----------------------------------------------------------------------------------------

function credentials(registry: TestRegistry, user: User): string {
  return dockerConfigJson({ [registry.host]: { username: user.username, password: user.password } });
}

/** Every password of both registries, and what a leak of one would look like. */
function secrets(): string[] {
  const users = [regs.basic.reader, regs.basic.writer, regs.token.reader, regs.token.writer];
  return users.flatMap((u) => [u.password, Buffer.from(`${u.username}:${u.password}`).toString("base64"), Buffer.from(u.password).toString("base64").slice(0, 16)]);
}

function expectNoSecrets(text: string): void {
  for (const s of secrets()) expect(text).not.toContain(s);
}

async function createSource(name: string, json: string): Promise<V1Secret> {
  return c.core.createNamespacedSecret({ namespace: SOURCE_NS, body: sourceSecret(SOURCE_NS, name, json) });
}

async function createExport(name: string, spec: PullSecretExportSpec): Promise<{ exp: PullSecretExport; warning: string }> {
  const res = await c.custom.createNamespacedCustomObjectWithHttpInfo({
    group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: SOURCE_NS,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: "PullSecretExport", metadata: { name, namespace: SOURCE_NS }, spec },
  });
  return { exp: res.data as PullSecretExport, warning: res.headers.warning ?? "" };
}

async function waitForAccess(name: string, verdict: string): Promise<PullSecretExport> {
  return eventually(`export ${name} to have access ${verdict}`, async () => {
    const e = await getExport(c, SOURCE_NS, name);
    return e.status?.access?.verdict === verdict ? e : undefined;
  }, 40_000);
}

async function optedInNamespace(): Promise<string> {
  const ns = uniqueName("reg-team");
  await createNamespace(c, ns, { "regcred.dev/inject": "true" });
  await eventually(`regcred to see namespace ${ns}`, () => Promise.resolve(current().state.namespace(ns) ? true : undefined));
  return ns;
}

async function waitForAdmissible(name: string): Promise<void> {
  await eventually(`export ${name} to be Ready`, async () => (isReady(await getExport(c, SOURCE_NS, name)) ? true : undefined), 40_000);
  await eventually(`regcred to see ${name} as admissible`, () => Promise.resolve(current().state.admissibleExports().some((e) => e.name === name) ? true : undefined));
}

/** A pod pulling from the registry gets the copy, which holds the source's data. */
async function expectDistributed(name: string, registry: TestRegistry, image: string): Promise<void> {
  await waitForAdmissible(name);
  const ns = await optedInNamespace();
  const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod("app", [`${registry.host}/${image}`]) });
  const copy = copyName(SOURCE_NS, name);
  // Other tests' exports for the same registry may match too.
  expect(stored.spec?.imagePullSecrets).toContainEqual({ name: copy });
  expect((await readSecret(c, ns, copy))?.data).toEqual((await readSecret(c, SOURCE_NS, name))?.data);
}

async function catalog(registry: TestRegistry, user: User): Promise<string[]> {
  const res = await request(`https://${registry.host}/v2/_catalog`, {
    dispatcher: agent, headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}` },
  });
  const body = await res.body.json() as { repositories?: string[] };
  return body.repositories ?? [];
}

// --- tests -------------------------------------------------------------------------------------------

describe("verification.mode BestEffort (the default)", () => {
  beforeAll(async () => { await useRegcred({}); });

  it("basic-auth registry: accepts and distributes the reader's export, proven read-only by the upload probe, leaving nothing behind", async () => {
    const before = await storageState(regs.basic.storageDir);
    const name = uniqueName("basic-ro");
    await createSource(name, credentials(regs.basic, regs.basic.reader));
    const { warning } = await createExport(name, { toNamespaces: ["*"] });
    expect(warning).toBe("");
    const exp = await waitForAccess(name, "ReadOnly");
    expect(exp.status?.access).toMatchObject({ verdict: "ReadOnly", method: "upload" });
    expect(exp.status?.access?.message).toContain(`${regs.basic.host}/reader/regcred-probe`);
    expect(exp.status?.conditions?.find((x) => x.type === "ReadOnlyVerified")?.status).toBe("True");
    await expectDistributed(name, regs.basic, "reader/app:1.0");
    // A refused upload changes nothing at all in the registry's storage.
    expect(await storageState(regs.basic.storageDir)).toEqual(before);
  });

  it("basic-auth registry: the API server denies the writer's export with regcred's message; the probe's upload was cancelled", async () => {
    const before = await storageState(regs.basic.storageDir);
    const catalogBefore = await catalog(regs.basic, regs.basic.writer);
    const name = uniqueName("basic-rw");
    await createSource(name, credentials(regs.basic, regs.basic.writer));
    const message = await deniedMessage(() => createExport(name, { toNamespaces: ["*"] }));
    expect(message).toContain("regcred:");
    expect(message).toContain(`${SOURCE_NS}/${name}`);
    expect(message).toContain(`${regs.basic.host}/writer/regcred-probe`);
    expect(message).toContain("upload");
    expect(message).toContain("HTTP 202");
    expectNoSecrets(message);
    // No repository and no upload session left: not in the API, not in the storage.
    expect(await catalog(regs.basic, regs.basic.writer)).toEqual(catalogBefore);
    const after = await storageState(regs.basic.storageDir);
    expect(after.repositories).toEqual(before.repositories);
    expect(after.uploads).toEqual([]);
    // distribution's DELETE handler stores the upload's hash state after removing the upload (a
    // deferred Close): that file is all that remains, names no live session and is not in the API.
    expect(after.leftovers.filter((f) => !before.leftovers.includes(f)).every((f) => /^writer\/regcred-probe\/_uploads\/[^/]+\/hashstates\//.test(f))).toBe(true);
    const res = await request(`https://${regs.basic.host}/v2/writer/regcred-probe/tags/list`, {
      dispatcher: agent, headers: { authorization: `Basic ${Buffer.from(`writer:${regs.basic.writer.password}`).toString("base64")}` },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(404);
  });

  it("token-auth registry: accepts and distributes the reader's export for a repository outside its namespace, proven by token-scope", async () => {
    const before = await storageState(regs.token.storageDir);
    const name = uniqueName("token-ro");
    await createSource(name, credentials(regs.token, regs.token.reader));
    const { warning } = await createExport(name, { toNamespaces: ["*"], verification: { repositories: ["shared/app"] } });
    expect(warning).toBe("");
    const exp = await waitForAccess(name, "ReadOnly");
    expect(exp.status?.access).toMatchObject({ verdict: "ReadOnly", method: "token-scope" });
    expect(exp.status?.access?.message).toContain("granted nothing on shared/app");
    await expectDistributed(name, regs.token, "shared/app:1.0");
    expect(await storageState(regs.token.storageDir)).toEqual(before);
  });

  it("token-auth registry: denies the writer's export, naming registry, repository and token-scope; the registry is untouched", async () => {
    const before = await storageState(regs.token.storageDir);
    const name = uniqueName("token-rw");
    await createSource(name, credentials(regs.token, regs.token.writer));
    const message = await deniedMessage(() => createExport(name, { toNamespaces: ["*"] }));
    expect(message).toContain("regcred:");
    expect(message).toContain(`${regs.token.host}/writer/regcred-probe`);
    expect(message).toContain("token-scope");
    expect(message).toContain("granted pull,push");
    expectNoSecrets(message);
    // Probed on a listed repository instead of the derived one.
    const listedName = uniqueName("token-rw");
    await createSource(listedName, credentials(regs.token, regs.token.writer));
    const listed = await deniedMessage(() => createExport(listedName, { toNamespaces: ["*"], verification: { repositories: ["writer/app"] } }));
    expect(listed).toContain(`${regs.token.host}/writer/app`);
    expect(await storageState(regs.token.storageDir)).toEqual(before);
  });

  it("token-auth registry: the derived repository <username>/regcred-probe catches a reader that owns a namespace it can push to", async () => {
    const name = uniqueName("token-own");
    await createSource(name, credentials(regs.token, regs.token.reader));
    const message = await deniedMessage(() => createExport(name, { toNamespaces: ["*"] }));
    expect(message).toContain(`${regs.token.host}/reader/regcred-probe`);
    expect(message).toContain("token-scope");
  });

  it("denies rotating an accepted source to the writer's credentials, and the source keeps its data", async () => {
    const name = uniqueName("rotate");
    await createSource(name, credentials(regs.basic, regs.basic.reader));
    await createExport(name, { toNamespaces: ["*"] });
    await waitForAccess(name, "ReadOnly");
    const source = await eventually("the source to be marked", async () => {
      const s = await readSecret(c, SOURCE_NS, name);
      return s?.metadata?.labels?.["regcred.dev/exported"] === "true" ? s : undefined;
    });
    const rotated = { ...source, data: { ".dockerconfigjson": Buffer.from(credentials(regs.basic, regs.basic.writer)).toString("base64") } };
    const message = await deniedMessage(() => c.core.replaceNamespacedSecret({ namespace: SOURCE_NS, name, body: rotated }));
    expect(message).toContain(`${regs.basic.host}/writer/regcred-probe`);
    expect(message).toContain("upload");
    expectNoSecrets(message);
    expect((await readSecret(c, SOURCE_NS, name))?.data).toEqual(source.data);
    // The token registry too: token-scope.
    const tokenName = uniqueName("rotate-token");
    await createSource(tokenName, credentials(regs.token, regs.token.reader));
    await createExport(tokenName, { toNamespaces: ["*"], verification: { repositories: ["writer/app"] } });
    await waitForAccess(tokenName, "ReadOnly");
    const tokenSource = await eventually("the source to be marked", async () => {
      const s = await readSecret(c, SOURCE_NS, tokenName);
      return s?.metadata?.labels?.["regcred.dev/exported"] === "true" ? s : undefined;
    });
    const tokenMessage = await deniedMessage(() => c.core.replaceNamespacedSecret({
      namespace: SOURCE_NS, name: tokenName,
      body: { ...tokenSource, data: { ".dockerconfigjson": Buffer.from(credentials(regs.token, regs.token.writer)).toString("base64") } },
    }));
    expect(tokenMessage).toContain(`${regs.token.host}/writer/app`);
    expect(tokenMessage).toContain("token-scope");
  });

  it("stops distributing a source that turned writable by a path the webhook did not see: Ready False, copies left, an Event", async () => {
    const r = current();
    const name = uniqueName("bypass");
    await createSource(name, credentials(regs.basic, regs.basic.reader));
    await createExport(name, { toNamespaces: ["*"] });
    await waitForAccess(name, "ReadOnly");
    await expectDistributed(name, regs.basic, "reader/app:2");
    const copies = await c.core.listSecretForAllNamespaces({ labelSelector: `regcred.dev/export=${name}` });
    expect(copies.items).toHaveLength(1);
    const copyBefore = copies.items[0];

    // The webhooks are out of the way (for example regcred was down): the source gets writable credentials.
    await unregisterWebhooks(admin);
    try {
      const source = await readSecret(c, SOURCE_NS, name);
      if (!source) throw new Error("source gone");
      await c.core.replaceNamespacedSecret({ namespace: SOURCE_NS, name, body: { ...source, data: { ".dockerconfigjson": Buffer.from(credentials(regs.basic, regs.basic.writer)).toString("base64") } } });
    } finally {
      await registerWebhooks(admin, r.url, r.caBundle, r.settings);
    }

    const exp = await waitForAccess(name, "Writable");
    const ready = exp.status?.conditions?.find((x) => x.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "Writable" });
    expect(ready?.message).toContain(`${regs.basic.host}/writer/regcred-probe`);
    expect(exp.status?.conditions?.find((x) => x.type === "ReadOnlyVerified")).toMatchObject({ status: "False", reason: "Writable" });
    const event = await eventually("a Warning Event saying why", async () => {
      const events = await c.core.listNamespacedEvent({ namespace: SOURCE_NS, fieldSelector: `involvedObject.name=${name}` });
      return events.items.find((e) => e.type === "Warning" && e.reason === "Writable");
    });
    expect(event.message).toContain("writer/regcred-probe");
    // The copy is left as it was (the reader's data) until an operator acts.
    const copyAfter = await readSecret(c, copyBefore?.metadata?.namespace ?? "", copyBefore?.metadata?.name ?? "");
    expect(copyAfter?.data).toEqual(copyBefore?.data);
    expect(copyAfter?.metadata?.resourceVersion).toBe(copyBefore?.metadata?.resourceVersion);
    expectNoSecrets(JSON.stringify(exp.status));
    expectNoSecrets(JSON.stringify(event));
  });

  it("registry down: the probe cannot tell, so BestEffort admits with a warning and the export is distributed unverified", async () => {
    await regs.basic.stop();
    try {
      const name = uniqueName("down-be");
      await createSource(name, credentials(regs.basic, regs.basic.reader));
      const { warning } = await createExport(name, { toNamespaces: ["*"] });
      expect(warning).toContain("regcred:");
      expect(warning).toContain("not verified");
      expect(warning).toContain(regs.basic.host);
      expect(warning).toContain("refused");
      const exp = await waitForAccess(name, "Unknown");
      expect(exp.status?.conditions?.find((x) => x.type === "ReadOnlyVerified")?.status).toBe("Unknown");
      await eventually("Ready", async () => (isReady(await getExport(c, SOURCE_NS, name)) ? true : undefined), 40_000);
    } finally {
      await regs.basic.start();
    }
  });

  it("never logs a password, a token or a credential", () => {
    const logs = current().logs();
    expect(logs).toContain("write-access probe");
    expectNoSecrets(logs);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/);
    expect(logs).not.toContain("_state=");
  });
});

describe("verification.mode Required", () => {
  beforeAll(async () => { await useRegcred({ REGCRED_VERIFICATION_MODE: "Required" }); });

  it("accepts a reader proven read-only", async () => {
    const name = uniqueName("req-ro");
    await createSource(name, credentials(regs.basic, regs.basic.reader));
    const { warning } = await createExport(name, { toNamespaces: ["*"] });
    expect(warning).toBe("");
    await waitForAccess(name, "ReadOnly");
  });

  it("registry down: denies, because read-only could not be proven", async () => {
    await regs.token.stop();
    try {
      const name = uniqueName("down-req");
      await createSource(name, credentials(regs.token, regs.token.reader));
      const message = await deniedMessage(() => createExport(name, { toNamespaces: ["*"], verification: { repositories: ["shared/app"] } }));
      expect(message).toContain("regcred:");
      expect(message).toContain("Required");
      expect(message).toContain(regs.token.host);
      expectNoSecrets(message);
    } finally {
      await regs.token.start();
    }
  });

  it("still denies the writer", async () => {
    const name = uniqueName("req-rw");
    await createSource(name, credentials(regs.token, regs.token.writer));
    const message = await deniedMessage(() => createExport(name, { toNamespaces: ["*"] }));
    expect(message).toContain("token-scope");
    expectNoSecrets(current().logs());
  });
});
