import { createHash } from "node:crypto";
import type { RequestOptions } from "node:https";
import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, AdmissionregistrationV1Api,
} from "@kubernetes/client-node";
import { Agent } from "undici";

/** The API clients regcred uses, all from one KubeConfig. */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  admissionRegistration: AdmissionregistrationV1Api;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  shareConnections(kc);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    admissionRegistration: kc.makeApiClient(AdmissionregistrationV1Api),
  };
}

/** KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl finds them. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** Whether a KubeConfig names a cluster at all (loadFromDefault falls back to localhost:8080). */
export function hasCluster(kc: KubeConfig): boolean {
  const server = kc.getCurrentCluster()?.server;
  return server !== undefined && server !== "" && server !== "http://localhost:8080";
}

const SHARED = Symbol("regcred.sharedConnections");
const MAX_IDENTITIES = 4;

/**
 * Makes every request and watch made through `kc` share keep-alive connections to the API server.
 *
 * @kubernetes/client-node 2.0 gives each API request and each watch a new undici Agent
 * (KubeConfig.applySecurityAuthentication), so a connection is never reused: every copy write,
 * status update and Event paid a TCP and TLS handshake, on regcred's side and the API server's,
 * and left an idle socket behind until it timed out. Here the Agent it creates is swapped for one
 * kept per TLS identity (CA, client certificate and key, verification), so a rotated certificate
 * still gets connections of its own. Proxies (not an Agent) are left as the library made them.
 */
export function shareConnections(kc: KubeConfig): void {
  const marked = kc as KubeConfig & { [SHARED]?: true };
  if (marked[SHARED]) return;
  marked[SHARED] = true;
  const apply = kc.applySecurityAuthentication.bind(kc);
  const agents = new Map<string, Agent>();
  kc.applySecurityAuthentication = async (context) => {
    await apply(context);
    const created = context.getDispatcher();
    if (!(created instanceof Agent)) return;
    const tls: RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const key = tlsIdentity(tls);
    let shared = agents.get(key);
    if (!shared) {
      shared = created;
      agents.set(key, shared);
      // An identity replaced long ago: its connections close once idle.
      for (const old of agents.keys()) if (agents.size > MAX_IDENTITIES) agents.delete(old);
    }
    context.setDispatcher(shared);
  };
}

function tlsIdentity(tls: RequestOptions): string {
  const hash = createHash("sha256");
  for (const part of [tls.ca, tls.cert, tls.key, tls.pfx]) {
    for (const item of Array.isArray(part) ? part : [part]) {
      hash.update(item === undefined ? "-" : typeof item === "string" || Buffer.isBuffer(item) ? item : JSON.stringify(item));
      hash.update("\0");
    }
  }
  hash.update(`${String(tls.passphrase)}\0${String(tls.rejectUnauthorized)}\0${String(tls.servername)}`);
  return hash.digest("hex");
}
