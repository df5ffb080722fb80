/**
 * The Helm chart: rendered objects checked field by field, every object accepted by a real API
 * server (server-side dry run), and a real install whose webhooks call a host-run regcred that
 * manages its own certificates, through upgrade, certificate rotation and uninstall.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createServer, type AddressInfo } from "node:net";
import { connect } from "node:tls";
import { X509Certificate } from "node:crypto";
import { Writable } from "node:stream";
import {
  AdmissionregistrationV1Api, KubernetesObjectApi, loadAllYaml, type KubeConfig, type KubernetesObject,
  type V1ClusterRole, type V1Deployment, type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import { isReady } from "../../src/api/types.js";
import { issueServingCertificate } from "../../src/certs/authority.js";
import { loadSettings } from "../../src/config/settings.js";
import { loadRbacRules } from "../../src/install/rbac.js";
import { loadWebhookDefinitions, webhookConfigurations } from "../../src/install/webhooks.js";
import { createLogger } from "../../src/observability/logger.js";
import { startRegcred, type Regcred } from "../../src/runtime.js";
import { CHART_DIR, helm } from "../harness/helm.js";
import {
  clientsFor, createExport, createNamespace, dockerConfigJson, eventually, getExport, pod, readSecret, sourceSecret,
  uniqueName, type Clients,
} from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred } from "../harness/regcred.js";
import { serviceAccountKubeconfig } from "../harness/serviceAccount.js";

const RELEASE = "chart-test";
const NAMESPACE = "chart-system";
const FULLNAME = `${RELEASE}-regcred`;
const KUBE_VERSION = ["--kube-version", "1.37.2"];

async function render(...set: string[]): Promise<KubernetesObject[]> {
  const res = await helm(["template", RELEASE, CHART_DIR, "-n", NAMESPACE, ...KUBE_VERSION, ...set.flatMap((s) => ["--set", s])]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return (loadAllYaml(res.stdout) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null);
}

// The caller names the type the kind has; helm output is untyped YAML.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function one<T extends KubernetesObject>(objects: KubernetesObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
}

describe("helm lint and template", () => {
  it("lints clean", async () => {
    const res = await helm(["lint", "--strict", CHART_DIR, ...KUBE_VERSION]);
    expect(res.stdout + res.stderr).toContain("0 chart(s) failed");
    expect(res.code).toBe(0);
  });

  it("renders a hardened Deployment with two replicas, probes and a PodDisruptionBudget", async () => {
    const objects = await render();
    const deployment = one<V1Deployment>(objects, "Deployment");
    const spec = deployment.spec?.template.spec;
    const container = spec?.containers[0];
    expect(deployment.spec?.replicas).toBe(2);
    expect(spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] },
    });
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", scheme: "HTTPS" });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", scheme: "HTTPS" });
    expect(container?.resources?.requests).toHaveProperty("memory");
    expect(spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(spec?.serviceAccountName).toBe(FULLNAME);
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ REGCRED_CERT_MODE: "self", REGCRED_INJECTION_MODE: "optIn", REGCRED_VERIFICATION_MODE: "BestEffort", REGCRED_WEBHOOK_CONFIG_NAME: FULLNAME });
    expect(one<KubernetesObject & { spec: { minAvailable: number } }>(objects, "PodDisruptionBudget").spec.minAvailable).toBe(1);
    expect(objects.every((o) => o.metadata?.labels?.["app.kubernetes.io/name"] === "regcred")).toBe(true);
  });

  it("renders the same webhooks the integration tests register", async () => {
    const objects = await render();
    const expected = webhookConfigurations(loadWebhookDefinitions(), {
      name: FULLNAME, injectionMode: "optIn",
      excludedNamespaces: ["kube-system", "kube-public", "kube-node-lease", NAMESPACE],
      clientConfig: (path) => ({ service: { name: FULLNAME, namespace: NAMESPACE, path, port: 443 } }),
    });
    const mutating = one<V1MutatingWebhookConfiguration>(objects, "MutatingWebhookConfiguration");
    const validating = one<V1ValidatingWebhookConfiguration>(objects, "ValidatingWebhookConfiguration");
    expect(mutating.webhooks).toEqual(expected.mutating.webhooks);
    expect(validating.webhooks).toEqual(expected.validating.webhooks);
  });

  it("grants exactly the rules of files/rbac.yaml, the caBundle rule limited to its own configurations", async () => {
    const rules = loadRbacRules();
    const role = one<V1ClusterRole>(await render(), "ClusterRole");
    expect(role.rules).toEqual([...rules.clusterRules, ...rules.webhookConfigurationRules.map((r) => ({ ...r, resourceNames: [FULLNAME] }))]);
    const certManagerRole = one<V1ClusterRole>(await render("certificates.mode=certManager"), "ClusterRole");
    expect(certManagerRole.rules).toEqual(rules.clusterRules);
  });

  it("hands certificates to cert-manager in certManager mode", async () => {
    const objects = await render("certificates.mode=certManager");
    const cert = one<KubernetesObject & { spec: { secretName: string; dnsNames: string[] } }>(objects, "Certificate");
    expect(cert.spec.secretName).toBe(`${FULLNAME}-tls`);
    expect(cert.spec.dnsNames).toContain(`${FULLNAME}.${NAMESPACE}.svc`);
    one(objects, "Issuer");
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
      const config = one<V1MutatingWebhookConfiguration>(objects, kind);
      expect(config.metadata?.annotations?.["cert-manager.io/inject-ca-from"]).toBe(`${NAMESPACE}/${FULLNAME}`);
      expect(config.webhooks?.every((w) => w.clientConfig.caBundle === undefined)).toBe(true);
    }
    const env = one<V1Deployment>(objects, "Deployment").spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === "REGCRED_CERT_MODE")?.value).toBe("secret");
  });

  it("follows the values: allNamespaces, extra exclusions, failure policies, optional objects", async () => {
    const objects = await render("injection.mode=allNamespaces", "injection.excludedNamespaces={legacy}", "webhook.failurePolicy.pods=Ignore",
      "metrics.serviceMonitor.enabled=true", "networkPolicy.enabled=true", "priorityClassName=system-cluster-critical", "webhook.url=https://127.0.0.1:8443");
    const pods = one<V1MutatingWebhookConfiguration>(objects, "MutatingWebhookConfiguration").webhooks?.find((w) => w.name === "pods.regcred.dev");
    expect(pods?.failurePolicy).toBe("Ignore");
    expect(pods?.clientConfig.url).toBe("https://127.0.0.1:8443/mutate/pods");
    expect(pods?.namespaceSelector?.matchExpressions).toEqual([
      { key: "regcred.dev/inject", operator: "NotIn", values: ["false"] },
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "kube-public", "kube-node-lease", NAMESPACE, "legacy"] },
    ]);
    one(objects, "ServiceMonitor");
    one(objects, "NetworkPolicy");
    expect(one<V1Deployment>(objects, "Deployment").spec?.template.spec?.priorityClassName).toBe("system-cluster-critical");
  });

  it("rejects wrong types and unknown modes with the schema", async () => {
    for (const bad of ["injection.mode=everything", "verification.mode=Sometimes", "replicaCount=two", "certificates.mode=vault", "webhook.failurePolicy.pods=Maybe", "nosuchvalue=1"]) {
      const res = await helm(["template", RELEASE, CHART_DIR, ...KUBE_VERSION, "--set", bad]);
      expect(res.code, bad).not.toBe(0);
      expect(res.stderr, bad).toContain("schema");
    }
  });
});

describe("on a real API server", () => {
  let admin: KubeConfig;
  let c: Clients;
  let regcred: Regcred | undefined;
  let port = 0;

  beforeAll(async () => {
    admin = adminKubeConfig(inject("kubeconfigPath"));
    c = clientsFor(admin);
    port = await freePort();
  });

  afterAll(async () => {
    await regcred?.stop();
    await helm(["uninstall", RELEASE, "-n", NAMESPACE], inject("kubeconfigPath"));
  });

  it("accepts every rendered object in a server-side dry run", async () => {
    await createNamespace(c, NAMESPACE).catch(() => undefined);
    const api = KubernetesObjectApi.makeApiClient(admin);
    for (const obj of await render()) {
      await expect(api.create(obj, undefined, "All"), `${obj.kind ?? ""}/${obj.metadata?.name ?? ""}`).resolves.toBeDefined();
    }
  });

  it("installs, manages its own certificate, and admits pods through the installed webhooks", async () => {
    const kubeconfig = inject("kubeconfigPath");
    const install = await helm(["install", RELEASE, CHART_DIR, "-n", NAMESPACE, "--create-namespace", "--set", `webhook.url=https://127.0.0.1:${String(port)}`], kubeconfig);
    expect(install.stderr).toBe("");
    expect(install.stdout).toContain("regcred.dev/inject=true");
    regcred = await startAsChartServiceAccount(admin, port);
    const admission = admin.makeApiClient(AdmissionregistrationV1Api);
    const secret = await eventually("regcred to create its certificate Secret", () => readSecret(c, NAMESPACE, `${FULLNAME}-tls`));
    const caBundle = secret.data?.["ca.crt"];
    await eventually("the caBundle in both webhook configurations", async () => {
      const m = await admission.readMutatingWebhookConfiguration({ name: FULLNAME });
      const v = await admission.readValidatingWebhookConfiguration({ name: FULLNAME });
      return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].every((w) => w.clientConfig.caBundle === caBundle) ? true : undefined;
    });
    const { ns, registry } = await exportAndOptIn(c);
    const stored = await eventually("a pod admitted through the installed webhooks", async () => {
      const p = await c.core.createNamespacedPod({ namespace: ns, body: pod(uniqueName("p"), [`${registry}/app`]) });
      return p.spec?.imagePullSecrets?.length ? p : undefined;
    });
    expect(stored.spec?.imagePullSecrets?.[0]?.name).toMatch(/^regcred\.chart-system\./);
  });

  it("keeps the certificates across helm upgrade", async () => {
    const before = await readSecret(c, NAMESPACE, `${FULLNAME}-tls`);
    const upgrade = await helm(["upgrade", RELEASE, CHART_DIR, "-n", NAMESPACE, "--reuse-values", "--set", "logLevel=debug"], inject("kubeconfigPath"));
    expect(upgrade.code).toBe(0);
    const after = await readSecret(c, NAMESPACE, `${FULLNAME}-tls`);
    expect(after?.data?.["tls.crt"]).toBe(before?.data?.["tls.crt"]);
    const m = await admin.makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: FULLNAME });
    expect(m.webhooks?.every((w) => w.clientConfig.caBundle === before?.data?.["ca.crt"])).toBe(true);
  });

  it("renews a certificate near its end, and calls keep succeeding during the rotation", async () => {
    const secret = await readSecret(c, NAMESPACE, `${FULLNAME}-tls`);
    if (!secret?.data) throw new Error("no certificate Secret");
    const ca = { cert: firstPem(Buffer.from(secret.data["ca.crt"] ?? "", "base64").toString()), key: Buffer.from(secret.data["ca.key"] ?? "", "base64").toString() };
    // Same CA, issued 364 days ago for a year: well past the renewal point.
    const old = issueServingCertificate(ca, { dnsNames: [FULLNAME], ipAddresses: ["127.0.0.1"] }, 365, new Date(Date.now() - 364 * 86_400_000));
    secret.data["tls.crt"] = Buffer.from(old.cert).toString("base64");
    secret.data["tls.key"] = Buffer.from(old.key).toString("base64");
    await c.core.replaceNamespacedSecret({ namespace: NAMESPACE, name: `${FULLNAME}-tls`, body: secret });
    const { ns, registry } = await exportAndOptIn(c);
    const oldSerial = new X509Certificate(old.cert).serialNumber;
    let renewed: string | undefined;
    let calls = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const p = await c.core.createNamespacedPod({ namespace: ns, body: pod(uniqueName("r"), [`${registry}/app`]), dryRun: "All" });
      expect(p.spec?.imagePullSecrets?.length).toBe(1);
      calls++;
      const current = await readSecret(c, NAMESPACE, `${FULLNAME}-tls`);
      const serial = new X509Certificate(Buffer.from(current?.data?.["tls.crt"] ?? "", "base64")).serialNumber;
      if (serial !== oldSerial && (await servedSerial(port)) === serial) {
        renewed = serial;
        break;
      }
    }
    expect(renewed).toBeDefined();
    expect(calls).toBeGreaterThan(0);
    const p = await c.core.createNamespacedPod({ namespace: ns, body: pod(uniqueName("after"), [`${registry}/app`]), dryRun: "All" });
    expect(p.spec?.imagePullSecrets?.length).toBe(1);
  });

  it("leaves no webhook configuration behind after helm uninstall", async () => {
    const res = await helm(["uninstall", RELEASE, "-n", NAMESPACE], inject("kubeconfigPath"));
    expect(res.code).toBe(0);
    const admission = admin.makeApiClient(AdmissionregistrationV1Api);
    await expect(admission.readMutatingWebhookConfiguration({ name: FULLNAME })).rejects.toMatchObject({ code: 404 });
    await expect(admission.readValidatingWebhookConfiguration({ name: FULLNAME })).rejects.toMatchObject({ code: 404 });
    // A pod in an opted-in namespace is admitted without regcred now.
    const ns = uniqueName("after-uninstall");
    await createNamespace(c, ns, { "regcred.dev/inject": "true" });
    await expect(c.core.createNamespacedPod({ namespace: ns, body: pod("x", ["nginx"]) })).resolves.toBeDefined();
  });
});

describe("exports from values", () => {
  it("creates the source secrets and exports listed in exports.create, and regcred distributes them", async () => {
    const admin = adminKubeConfig(inject("kubeconfigPath"));
    const c = clientsFor(admin);
    const regcred = await startTestRegcred(admin, {}, { register: false });
    const release = "chart-exports";
    const name = uniqueName("from-values");
    const registry = `${name}.example.com`;
    await createNamespace(c, "registry-creds").catch(() => undefined);
    try {
      const res = await helm(["install", release, CHART_DIR, "-n", release, "--create-namespace",
        "--set", `webhook.url=${regcred.url}`, "--set", `webhook.caBundle=${regcred.caBundle}`,
        "--set", `exports.create[0].name=${name}`, "--set", "exports.create[0].namespace=registry-creds",
        "--set", `exports.create[0].registry=${registry}`, "--set", "exports.create[0].username=puller",
        "--set", "exports.create[0].password=from-values-pw", "--set", "exports.create[0].access=read-only"], inject("kubeconfigPath"));
      expect(res.stderr).not.toContain("Error");
      expect(res.code).toBe(0);
      const secret = await readSecret(c, "registry-creds", name);
      const config = JSON.parse(Buffer.from(secret?.data?.[".dockerconfigjson"] ?? "", "base64").toString()) as { auths: Record<string, { username: string; auth: string }> };
      expect(config.auths[registry]?.username).toBe("puller");
      expect(Buffer.from(config.auths[registry]?.auth ?? "", "base64").toString()).toBe("puller:from-values-pw");
      await eventually("the export from values to be Ready", async () => (isReady(await getExport(c, "registry-creds", name)) ? true : undefined));
    } finally {
      await helm(["uninstall", release, "-n", release], inject("kubeconfigPath"));
      await regcred.stop();
    }
  });
});

/** regcred on the host, as the chart's ServiceAccount with the chart's RBAC, in cert mode self. */
async function startAsChartServiceAccount(admin: KubeConfig, port: number): Promise<Regcred> {
  const kc = await serviceAccountKubeconfig(admin, NAMESPACE, FULLNAME);
  const settings = loadSettings([], {
    REGCRED_PORT: String(port), REGCRED_METRICS_PORT: "0", REGCRED_BIND_ADDRESS: "127.0.0.1", REGCRED_NAMESPACE: NAMESPACE,
    REGCRED_CERT_MODE: "self", REGCRED_TLS_SECRET: `${FULLNAME}-tls`, REGCRED_SERVICE_NAME: FULLNAME,
    REGCRED_WEBHOOK_CONFIG_NAME: FULLNAME, REGCRED_EXTRA_SERVING_NAMES: "127.0.0.1",
    REGCRED_VERIFICATION_MODE: "DeclaredOnly",
  });
  const sink = new Writable({ write(_chunk, _enc, done) { done(); } });
  return startRegcred({ settings, kc, log: createLogger("info", sink), processMetrics: false });
}

async function exportAndOptIn(c: Clients): Promise<{ ns: string; registry: string }> {
  const name = uniqueName("chart-creds");
  const registry = `${name}.example.com`;
  await c.core.createNamespacedSecret({ namespace: NAMESPACE, body: sourceSecret(NAMESPACE, name, dockerConfigJson({ [registry]: { username: "u", password: "p" } }), { "regcred.dev/access": "read-only" }) });
  await createExport(c, NAMESPACE, name, { toNamespaces: ["*"] });
  await eventually("the export to be Ready", async () => (isReady(await getExport(c, NAMESPACE, name)) ? true : undefined));
  const ns = uniqueName("chart-team");
  await createNamespace(c, ns, { "regcred.dev/inject": "true" });
  return { ns, registry };
}

function firstPem(bundle: string): string {
  const end = "-----END CERTIFICATE-----";
  return bundle.slice(0, bundle.indexOf(end) + end.length);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => { resolve(port); });
    });
  });
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const serial = new X509Certificate(socket.getPeerCertificate(true).raw).serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on("error", reject);
  });
}
