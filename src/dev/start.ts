/**
 * `npm start`: regcred on this machine. With a reachable cluster in KUBECONFIG (or ~/.kube/config)
 * it runs against that cluster. With none, it starts the local test control plane (a real
 * kube-apiserver), installs the CRD and regcred's RBAC, runs regcred as its own ServiceAccount and
 * registers its webhooks there. Ctrl-C unregisters the webhooks and stops everything.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { AdmissionregistrationV1Api, ApiextensionsV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { ALWAYS_EXCLUDED_NAMESPACES } from "../api/names.js";
import { writeDevCerts } from "../certs/devCerts.js";
import { hasCluster, loadKubeConfig } from "../cluster/kube.js";
import { helpText, loadSettings, type Settings } from "../config/settings.js";
import { applyCrd } from "../install/crd.js";
import { applyRbac } from "../install/rbac.js";
import { applyWebhookConfigurations, loadWebhookDefinitions, webhookConfigurations } from "../install/webhooks.js";
import { createLogger } from "../observability/logger.js";
import { startRegcred } from "../runtime.js";
import { startControlPlane, type ControlPlane } from "../../test/harness/controlPlane.js";
import { serviceAccountKubeconfig } from "../../test/harness/serviceAccount.js";

const WEBHOOK_NAME = "regcred-dev";

async function reachable(kc: KubeConfig): Promise<boolean> {
  if (!hasCluster(kc)) return false;
  try {
    await Promise.race([
      kc.makeApiClient(VersionApi).getCode(),
      new Promise((_, reject) => setTimeout(() => { reject(new Error("timeout")); }, 5000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

function ensureDevCerts(settings: Settings): void {
  if (existsSync(settings.tlsCertFile) && existsSync(settings.tlsKeyFile)) return;
  const files = writeDevCerts(resolve("certs"));
  settings.tlsCertFile = files.certFile;
  settings.tlsKeyFile = files.keyFile;
  console.log(`[regcred] wrote a development CA and serving certificate to ${resolve("certs")}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help")) {
    console.log(`npm start -- [options]\n\n${helpText()}`);
    return;
  }
  const settings = loadSettings(argv, { REGCRED_BIND_ADDRESS: "127.0.0.1", ...process.env });
  ensureDevCerts(settings);
  const log = createLogger(settings.logLevel);
  let kc = loadKubeConfig();
  let controlPlane: ControlPlane | undefined;
  let adminKc: KubeConfig | undefined;
  if (await reachable(kc)) {
    console.log(`[regcred] using the cluster at ${kc.getCurrentCluster()?.server ?? "?"} (context ${kc.getCurrentContext()})`);
  } else {
    const dataDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "regcred", "dev-cluster");
    console.log("[regcred] no reachable cluster configured: starting a local control plane (the first run builds it, ~10 minutes)");
    controlPlane = await startControlPlane({ dataDir });
    adminKc = new KubeConfig();
    adminKc.loadFromFile(controlPlane.kubeconfigPath);
    await applyCrd(adminKc.makeApiClient(ApiextensionsV1Api));
    kc = await serviceAccountKubeconfig(adminKc, settings.ownNamespace, "regcred");
    await applyRbac(adminKc, "regcred", settings.ownNamespace, "regcred");
  }

  const regcred = await startRegcred({ settings, kc, log });
  const url = `https://127.0.0.1:${regcred.port}`;
  if (adminKc && controlPlane) {
    const caBundle = readFileSync(join(dirname(settings.tlsCertFile), "ca.crt")).toString("base64");
    await applyWebhookConfigurations(adminKc.makeApiClient(AdmissionregistrationV1Api), webhookConfigurations(loadWebhookDefinitions(), {
      name: WEBHOOK_NAME, clientConfig: (path) => ({ url: `${url}${path}`, caBundle }),
      injectionMode: settings.injectionMode,
      excludedNamespaces: [...ALWAYS_EXCLUDED_NAMESPACES, settings.ownNamespace, ...settings.excludedNamespaces],
    }));
    printNextSteps(controlPlane.kubeconfigPath, url, regcred.metricsPort);
  } else {
    console.log(`[regcred] serving the webhooks at ${url}; this does not register them in that cluster (install the chart for that)`);
  }

  const stop = async (): Promise<void> => {
    console.log("\n[regcred] stopping");
    if (adminKc) {
      const api = adminKc.makeApiClient(AdmissionregistrationV1Api);
      await api.deleteMutatingWebhookConfiguration({ name: WEBHOOK_NAME }).catch(() => undefined);
      await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_NAME }).catch(() => undefined);
    }
    await regcred.stop();
    await controlPlane?.stop();
  };
  process.once("SIGINT", () => { void stop().then(() => process.exit(0)); });
  process.once("SIGTERM", () => { void stop().then(() => process.exit(0)); });
}

function printNextSteps(kubeconfig: string, url: string, metricsPort: number): void {
  console.log(`
[regcred] running, registered with the local control plane.

  export KUBECONFIG=${kubeconfig}
  kubectl apply -f docs/examples/quickstart.yaml      # a source secret, its export, and namespace team-a opting in
  kubectl get pse -n registry-creds                   # Ready, Access, Copies
  kubectl run app -n team-a --image=harbor.example.com/team-a/app:1.0
  kubectl get pod app -n team-a -o jsonpath='{.spec.imagePullSecrets}'   # [{"name":"regcred.registry-creds.harbor-ro"}]

  webhooks: ${url}   metrics: http://127.0.0.1:${String(metricsPort)}/metrics
  Ctrl-C stops regcred and the control plane (the cluster's data stays for the next npm start).
`);
}

main().catch((err: unknown) => {
  console.error(`[regcred] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
