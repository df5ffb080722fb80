/**
 * Runs regcred on the host against a real API server the way the chart runs it in the cluster: as
 * its own ServiceAccount with the chart's RBAC (never as admin), with the chart's webhook
 * definitions registered for real at https://127.0.0.1:<port>, trusted through a test CA.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { AdmissionregistrationV1Api, ApiextensionsV1Api, KubeConfig } from "@kubernetes/client-node";
import { ALWAYS_EXCLUDED_NAMESPACES, ANNOTATION_INJECT, EXPORT_PLURAL, GROUP, LABEL_INJECT, VERSION } from "../../src/api/names.js";
import { createAuthority, issueServingCertificate } from "../../src/certs/authority.js";
import { loadSettings, type Settings } from "../../src/config/settings.js";
import { applyCrd } from "../../src/install/crd.js";
import { applyRbac } from "../../src/install/rbac.js";
import { applyWebhookConfigurations, loadWebhookDefinitions, webhookConfigurations } from "../../src/install/webhooks.js";
import { createLogger } from "../../src/observability/logger.js";
import { startRegcred, type Regcred } from "../../src/runtime.js";
import { clientsFor, eventually, uniqueName } from "./fixtures.js";
import { serviceAccountKubeconfig } from "./serviceAccount.js";

export const REGCRED_NAMESPACE = "regcred-system";
export const WEBHOOK_CONFIG_NAME = "regcred";

export interface TestRegcred extends Regcred {
  settings: Settings;
  /** Every log line regcred wrote, as text. */
  logs: () => string;
  caBundle: string;
  url: string;
}

export function adminKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

let tlsDir: string | undefined;
let ca: { cert: string; key: string } | undefined;

/** A test CA and a serving certificate for 127.0.0.1, made once per test file. */
export function testCertificates(): { dir: string; caPem: string; certFile: string; keyFile: string } {
  if (!tlsDir || !ca) {
    tlsDir = mkdtempSync(join(tmpdir(), "regcred-tls-"));
    ca = createAuthority("regcred test CA");
    const serving = issueServingCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    writeFileSync(join(tlsDir, "tls.crt"), serving.cert);
    writeFileSync(join(tlsDir, "tls.key"), serving.key);
  }
  return { dir: tlsDir, caPem: ca.cert, certFile: join(tlsDir, "tls.crt"), keyFile: join(tlsDir, "tls.key") };
}

/** Starts regcred as its ServiceAccount and registers its webhooks with the API server. */
export async function startTestRegcred(admin: KubeConfig, env: Record<string, string> = {}, options: { register?: boolean } = {}): Promise<TestRegcred> {
  await applyCrd(admin.makeApiClient(ApiextensionsV1Api));
  const saKc = await serviceAccountKubeconfig(admin, REGCRED_NAMESPACE, "regcred");
  await applyRbac(admin, "regcred", REGCRED_NAMESPACE, "regcred");
  const certs = testCertificates();
  const settings = loadSettings([], {
    REGCRED_PORT: "0", REGCRED_METRICS_PORT: "0", REGCRED_BIND_ADDRESS: "127.0.0.1",
    REGCRED_TLS_CERT_FILE: certs.certFile, REGCRED_TLS_KEY_FILE: certs.keyFile,
    REGCRED_NAMESPACE: REGCRED_NAMESPACE, REGCRED_LOG_LEVEL: "debug",
    // Tests use made-up registry hosts; probing them would send DNS queries off this machine.
    // The probe tests run real registries on loopback and set the mode they test.
    REGCRED_VERIFICATION_MODE: "DeclaredOnly",
    ...env,
  });
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger(settings.logLevel, sink);
  const regcred = await startRegcred({ settings, kc: saKc, log, processMetrics: false });
  const url = `https://127.0.0.1:${regcred.port}`;
  const caBundle = Buffer.from(certs.caPem).toString("base64");
  if (options.register ?? true) await registerWebhooks(admin, url, caBundle, settings);
  return { ...regcred, settings, logs: () => lines.join(""), caBundle, url };
}

export async function registerWebhooks(admin: KubeConfig, url: string, caBundle: string, settings: Settings): Promise<void> {
  const configs = webhookConfigurations(loadWebhookDefinitions(), {
    name: WEBHOOK_CONFIG_NAME,
    clientConfig: (path) => ({ url: `${url}${path}`, caBundle }),
    injectionMode: settings.injectionMode,
    excludedNamespaces: [...ALWAYS_EXCLUDED_NAMESPACES, settings.ownNamespace, ...settings.excludedNamespaces],
  });
  await applyWebhookConfigurations(admin.makeApiClient(AdmissionregistrationV1Api), configs);
  await waitForWebhooks(admin);
}

/**
 * The API server picks webhook configurations up from a watch, a moment after they are written:
 * wait until both answer (dry runs, so nothing is stored).
 */
async function waitForWebhooks(admin: KubeConfig): Promise<void> {
  const c = clientsFor(admin);
  await eventually("the mutating webhooks to be called", async () => {
    const ns = await c.core.createNamespace({ body: { metadata: { name: uniqueName("probe"), annotations: { [ANNOTATION_INJECT]: "true" } } }, dryRun: "All" });
    return ns.metadata?.labels?.[LABEL_INJECT] === "true" ? true : undefined;
  });
  await eventually("the validating webhooks to be called", async () => {
    try {
      await c.custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: "default", dryRun: "All",
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: "PullSecretExport", metadata: { name: "probe", namespace: "default" }, spec: { toNamespaces: ["*"] } },
      });
      return undefined;
    } catch (err) {
      return (err as { code?: number }).code === 403 ? true : undefined;
    }
  });
}

/** Removes the webhook configurations: a webhook left pointing at a stopped regcred blocks pod creation. */
export async function unregisterWebhooks(admin: KubeConfig): Promise<void> {
  const api = admin.makeApiClient(AdmissionregistrationV1Api);
  await api.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIG_NAME }).catch(() => undefined);
  await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIG_NAME }).catch(() => undefined);
}
