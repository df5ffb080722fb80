/**
 * Vitest global setup for the integration project: one control plane (a real kube-apiserver) for the
 * whole run. If it cannot be built or started this throws, so the run fails; it never skips.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startControlPlane } from "./controlPlane.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A cluster-admin kubeconfig for the shared control plane. */
    kubeconfigPath: string;
    /** `https://127.0.0.1:PORT`. */
    server: string;
    /** The control plane's stdout+stderr. */
    logFile: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane();
  console.log(`[controlplane] ready at ${cp.server}; kubeconfig ${cp.kubeconfigPath}; log ${cp.logFile}`);
  project.provide("kubeconfigPath", cp.kubeconfigPath);
  project.provide("server", cp.server);
  project.provide("logFile", cp.logFile);
  return async () => {
    await cp.stop();
    // etcd's preallocated WAL is ~60 MB per run; keep the log, certificates and kubeconfig for debugging.
    await rm(join(cp.dataDir, "etcd"), { recursive: true, force: true });
    console.log(`[controlplane] stopped; its log is ${cp.logFile}`);
  };
}
