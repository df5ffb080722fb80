/**
 * Proves the test harness: the shared control plane is a real kube-apiserver 1.37 with RBAC on, and a
 * second control plane of our own survives restart() with its data.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, VersionApi, Watch } from "@kubernetes/client-node";
import { startControlPlane } from "../harness/controlPlane.js";
import type { ControlPlane } from "../harness/controlPlane.js";
import { serviceAccountKubeconfig } from "../harness/serviceAccount.js";

function adminKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** The HTTP status of a failed call, or "ok". */
async function statusOf(call: () => Promise<unknown>): Promise<number | "ok"> {
  try {
    await call();
    return "ok";
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

const suffix = Date.now().toString(36);

describe("the shared control plane", () => {
  const kc = adminKubeConfig(inject("kubeconfigPath"));

  it("is a kube-apiserver 1.37 at the provided address", async () => {
    expect(kc.getCurrentCluster()?.server).toBe(inject("server"));
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe("1");
    expect(version.minor.replace(/\+$/, "")).toBe("37");
  });

  it("enforces RBAC: a fresh ServiceAccount may not list namespaces until it is bound to view", async () => {
    const namespace = `harness-rbac-${suffix}`;
    const saName = "reader";
    const saKc = await serviceAccountKubeconfig(kc, namespace, saName);
    const saCore = saKc.makeApiClient(CoreV1Api);

    // The token itself is valid (authenticated), it is only not authorized.
    expect(await statusOf(() => saCore.listNamespace())).toBe(403);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const bindingName = `harness-rbac-view-${suffix}`;
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: bindingName },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: saName, namespace }],
      },
    });
    try {
      // The RBAC authorizer reads bindings from an informer cache: give it a few seconds.
      let status = await statusOf(() => saCore.listNamespace());
      for (let i = 0; status !== "ok" && i < 50; i++) {
        await sleep(200);
        status = await statusOf(() => saCore.listNamespace());
      }
      expect(status).toBe("ok");
      const list = await saCore.listNamespace();
      expect(list.items.map((ns) => ns.metadata?.name)).toContain(namespace);
    } finally {
      await rbac.deleteClusterRoleBinding({ name: bindingName });
    }
  });
});

describe("restart()", () => {
  // A control plane of this file's own, so restarting it does not disturb the shared one.
  let cp: ControlPlane | undefined;

  beforeAll(async () => {
    cp = await startControlPlane();
  });

  afterAll(async () => {
    if (cp === undefined) return;
    await cp.stop();
    await rm(cp.dataDir, { recursive: true, force: true });
  });

  it("brings the same cluster back on the same address", { timeout: 180_000 }, async () => {
    if (cp === undefined) throw new Error("beforeAll did not start the control plane");
    const before = cp.server;
    const core = adminKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
    const namespace = `survives-restart-${suffix}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "kept" }, data: { answer: "42" } },
    });

    // An open watch (as any controller under test keeps) must not hold up the graceful stop.
    const watch = await new Watch(adminKubeConfig(cp.kubeconfigPath)).watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      () => undefined,
      () => undefined,
    );
    try {
      await cp.restart(2000);
    } finally {
      watch.abort();
    }

    expect(await readFile(cp.logFile, "utf8")).not.toContain("SIGKILL");
    expect(cp.server).toBe(before);
    const coreAfter = adminKubeConfig(cp.kubeconfigPath).makeApiClient(CoreV1Api);
    const cm = await coreAfter.readNamespacedConfigMap({ namespace, name: "kept" });
    expect(cm.data).toEqual({ answer: "42" });
  });
});
