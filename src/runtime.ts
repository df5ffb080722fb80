import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { EXPORT_PLURAL, GROUP, VERSION } from "./api/names.js";
import type { PullSecretExport } from "./api/types.js";
import { injectionPolicy } from "./admission/eligibility.js";
import { exportWebhook, namespaceWebhook, podWebhook, secretWebhook, type AdmissionContext } from "./admission/webhooks.js";
import type { Settings } from "./config/settings.js";
import { CopyWriter } from "./cluster/copyWriter.js";
import { EventRecorder } from "./cluster/events.js";
import { kubeClients, type KubeClients } from "./cluster/kube.js";
import { ClusterState, namespaceInfo } from "./cluster/state.js";
import { ExportController } from "./controller/exportController.js";
import { LeaderElector } from "./controller/leader.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { Metrics } from "./observability/metrics.js";
import { statusCodeOf } from "./observability/errors.js";
import { createAccessChecker } from "./registry/probes/index.js";
import { webhookApp } from "./server/app.js";
import { metricsServer } from "./server/metricsServer.js";
import { readKeyPair, reloadOnChange, type KeyPair } from "./server/tls.js";
import { SecretCertificate } from "./server/secretCertificate.js";
import { createAuthority, issueServingCertificate } from "./certs/authority.js";
import { SelfManagedCertificates } from "./certs/selfManaged.js";

export interface RegcredOptions {
  settings: Settings;
  kc: KubeConfig;
  log?: Logger;
  /** Collect Node.js process metrics (off in tests that start several instances in one process). */
  processMetrics?: boolean;
}

export interface Regcred {
  port: number;
  metricsPort: number;
  metrics: Metrics;
  state: ClusterState;
  controller: ExportController;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  override name = "StartupError";
}

/** Starts the webhooks, the caches and (when elected) the controller. Resolves once the caches are synced. */
export async function startRegcred(options: RegcredOptions): Promise<Regcred> {
  const { settings, kc } = options;
  const log = options.log ?? createLogger(settings.logLevel);
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? true });
  const clients = kubeClients(kc);
  const state = new ClusterState(clients, log);
  const writer = new CopyWriter(clients.core, (ns, name) => state.copies.get(name, ns), metrics, log);
  state.useWriteMemory(writer);
  const events = new EventRecorder(clients.core, log);
  const policy = injectionPolicy(settings.injectionMode, settings.ownNamespace, settings.excludedNamespaces);
  const access = createAccessChecker(settings, log);

  const keyPair = initialKeyPair(settings);
  const ctx: AdmissionContext = {
    settings, policy, log, access,
    namespace: (name) => state.namespace(name),
    fetchNamespace: async (name) => {
      try {
        return namespaceInfo(await clients.core.readNamespace({ name }));
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    admissibleExports: () => state.admissibleExports(),
    copyStates: (ns, exports) => state.copyStates(ns, exports),
    ensureCopy: (ns, template) => writer.ensure(ns, template),
    retryCopy: (ns, template) => { writer.retryInBackground(ns, template); },
    joinedExport: (ns, name) => state.joinedExport(ns, name),
    fetchSecret: (ns, name) => readOrUndefined(() => clients.core.readNamespacedSecret({ namespace: ns, name })),
    fetchExport: (ns, name) => readOrUndefined(() => clients.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace: ns, name }) as Promise<PullSecretExport>),
    recordEvent: (ref, type, reason, message) => { events.record(ref, type, reason, message); },
  };

  const app = webhookApp({
    webhooks: { pods: podWebhook(ctx), namespaces: namespaceWebhook(), exports: exportWebhook(ctx), secrets: secretWebhook(ctx) },
    maxBodyBytes: settings.maxBodyBytes,
    metrics, log,
    ready: () => {
      const reasons = [...(state.synced ? [] : ["caches not synced"]), ...(secretCert && !secretCert.loaded ? ["serving certificate not loaded"] : [])];
      return { ready: reasons.length === 0, reasons };
    },
  });
  const https = createHttpsServer({ ...keyPair, minVersion: "TLSv1.2" }, app);
  https.keepAliveTimeout = 65_000;
  const watchers = settings.certMode === "files" ? reloadOnChange(https, keyPair, settings.tlsCertFile, settings.tlsKeyFile, log) : [];
  const selfCerts = settings.certMode === "self"
    ? new SelfManagedCertificates(clients.core, clients.admissionRegistration, {
      namespace: settings.ownNamespace, secretName: settings.tlsSecretName, serviceName: settings.serviceName, webhookConfigName: settings.webhookConfigName,
      extraNames: settings.extraServingNames,
    }, log)
    : undefined;
  const secretCert = settings.certMode === "files" ? undefined
    : new SecretCertificate(kc, clients.core, https, settings.ownNamespace, settings.tlsSecretName, log, () => { selfCerts?.poke(); });
  const metricsHttp = metricsServer(metrics);
  const port = await listen(https, settings.port, settings.bindAddress);
  const metricsPort = await listen(metricsHttp, settings.metricsPort, settings.bindAddress);
  log.info({ port, metricsPort }, "serving webhooks");

  await Promise.all([state.start(), secretCert?.start()]);
  log.info("caches synced");

  const controller = new ExportController({ clients, state, writer, events, access, settings, policy, metrics, log });
  const leading = {
    start: () => { controller.start(); selfCerts?.start(); },
    stop: () => { controller.stop(); selfCerts?.stop(); },
  };
  const elector = settings.leaderElection ? leaderElector(clients, settings, leading, log) : undefined;
  if (elector) elector.start();
  else leading.start();

  return {
    port, metricsPort, metrics, state, controller,
    isLeader: () => elector?.isLeader ?? true,
    async stop() {
      leading.stop();
      await elector?.stop();
      await secretCert?.stop();
      for (const w of watchers) w.close();
      await Promise.all([close(https), close(metricsHttp)]);
      await state.stop();
    },
  };
}

function leaderElector(clients: KubeClients, settings: Settings, leading: { start(): void; stop(): void }, log: Logger): LeaderElector {
  const identity = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  return new LeaderElector(clients.coordination, { namespace: settings.ownNamespace, name: "regcred-controller", identity }, {
    onStartedLeading: () => { leading.start(); },
    onStoppedLeading: () => { leading.stop(); },
  }, log);
}

/**
 * The pair the HTTPS server starts with. In cert modes self and secret the real one arrives from
 * its Secret; until then a throwaway self-signed pair lets the health checks' TLS handshake work.
 */
function initialKeyPair(settings: Settings): KeyPair {
  if (settings.certMode !== "files") {
    const ca = createAuthority("regcred placeholder", 1);
    return issueServingCertificate(ca, { dnsNames: ["localhost"] }, 1);
  }
  try {
    return readKeyPair(settings.tlsCertFile, settings.tlsKeyFile);
  } catch {
    throw new StartupError(`no serving certificate at ${settings.tlsCertFile} / ${settings.tlsKeyFile}; run "npm run certs" or set --tls-cert-file and --tls-key-file`);
  }
}

async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (statusCodeOf(err) === 404) return undefined;
    throw err;
  }
}

function listen(server: HttpsServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: HttpsServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => { resolve(); });
    server.closeAllConnections();
  });
}

