/**
 * regcred keeps answering from its caches while the API server is away, and its watches resume
 * when it comes back, without a restart of regcred. This file runs its own control plane, since it
 * stops it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { Agent, fetch } from "undici";
import type { KubeConfig } from "@kubernetes/client-node";
import { isReady } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import { startControlPlane, type ControlPlane } from "../harness/controlPlane.js";
import {
  clientsFor, createExport, createNamespace, dockerConfigJson, eventually, getExport, pod, readSecret, sourceSecret,
  uniqueName, type Clients,
} from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred, testCertificates, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";

let cp: ControlPlane;
let admin: KubeConfig;
let c: Clients;
let regcred: TestRegcred;

beforeAll(async () => {
  cp = await startControlPlane();
  admin = adminKubeConfig(cp.kubeconfigPath);
  c = clientsFor(admin);
  regcred = await startTestRegcred(admin);
});

afterAll(async () => {
  await unregisterWebhooks(admin).catch(() => undefined);
  await regcred.stop();
  await cp.stop();
});

function podReview(namespace: string, image: string): object {
  return {
    apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
    request: {
      uid: "restart-test", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" },
      namespace, operation: "CREATE", dryRun: false, object: pod("direct", [image]),
    },
  };
}

it("answers the warm path while the API server is down, and resumes its watches when it is back", async () => {
  await createNamespace(c, "registry-creds");
  const name = uniqueName("creds");
  const data = (password: string) => dockerConfigJson({ "restart.example.com": { username: "puller", password } });
  await c.core.createNamespacedSecret({ namespace: "registry-creds", body: sourceSecret("registry-creds", name, data("one"), { "regcred.dev/access": "read-only" }) });
  await createExport(c, "registry-creds", name, { toNamespaces: ["*"] });
  await eventually("the export to be Ready", async () => (isReady(await getExport(c, "registry-creds", name)) ? true : undefined));
  await eventually("regcred to see the export Ready", () => Promise.resolve(regcred.state.admissibleExports().length > 0 ? true : undefined));
  const ns = uniqueName("team");
  await createNamespace(c, ns, { "regcred.dev/inject": "true" });
  await eventually("regcred to see the namespace", () => Promise.resolve(regcred.state.namespace(ns) ? true : undefined));
  await c.core.createNamespacedPod({ namespace: ns, body: pod("first", ["restart.example.com/app"]) });
  const copy = copyName("registry-creds", name);
  await eventually("the copy in regcred's cache", () => Promise.resolve(regcred.state.copies.get(copy, ns) ? true : undefined));

  await cp.stop();
  const dispatcher = new Agent({ connect: { ca: testCertificates().caPem } });
  const res = await fetch(`${regcred.url}/mutate/pods`, { method: "POST", dispatcher, headers: { "content-type": "application/json" }, body: JSON.stringify(podReview(ns, "restart.example.com/app:2")) });
  const review = await res.json() as { response: { uid: string; allowed: boolean; patch?: string } };
  expect(review.response.uid).toBe("restart-test");
  expect(review.response.allowed).toBe(true);
  expect(Buffer.from(review.response.patch ?? "", "base64").toString()).toContain(copy);

  await cp.restart(3000);
  // A namespace created after the restart reaches regcred's cache: its watches are back.
  const later = uniqueName("later");
  await createNamespace(c, later, { "regcred.dev/inject": "true" });
  await eventually("regcred to see a namespace created after the restart", () => Promise.resolve(regcred.state.namespace(later) ? true : undefined), 60_000);
  const stored = await c.core.createNamespacedPod({ namespace: later, body: pod("second", ["restart.example.com/app"]) });
  expect(stored.spec?.imagePullSecrets).toEqual([{ name: copy }]);

  // A rotation after the restart reaches the existing copies.
  const source = await readSecret(c, "registry-creds", name);
  if (!source) throw new Error("source vanished");
  source.data = { ".dockerconfigjson": Buffer.from(data("two")).toString("base64") };
  await c.core.replaceNamespacedSecret({ namespace: "registry-creds", name, body: source });
  await eventually("the copy to be rotated", async () => {
    const s = await readSecret(c, ns, copy);
    return s?.data?.[".dockerconfigjson"] === source.data?.[".dockerconfigjson"] ? true : undefined;
  }, 60_000);
});
