/**
 * helm, built from its Go module at a pinned version (no prebuilt binary can be fetched here),
 * cached like the control plane, and run as a child process.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { cacheRoot, findGo } from "./controlPlane.js";

export const HELM_MODULE = "helm.sh/helm/v3";
export const HELM_VERSION = "v3.21.4";
export const CHART_DIR = resolve(import.meta.dirname, "../../charts/regcred");

const run = promisify(execFile);

export async function helmBinary(): Promise<string> {
  const dir = join(cacheRoot(), `helm-${HELM_VERSION}`);
  const binary = join(dir, "helm");
  if (existsSync(binary)) return binary;
  const staging = join(dir, `.build-${String(process.pid)}`);
  mkdirSync(staging, { recursive: true });
  console.log(`[helm] building ${HELM_MODULE}/cmd/helm@${HELM_VERSION} (about 2 minutes the first time)...`);
  await new Promise<void>((done, fail) => {
    const child = spawn(findGo(), ["install", "-trimpath", "-ldflags=-s -w", `${HELM_MODULE}/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: staging }, stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", fail);
    child.on("close", (code) => { if (code === 0) done(); else fail(new Error(`building helm ${HELM_VERSION} failed (exit ${String(code)})`)); });
  });
  renameSync(join(staging, "helm"), binary);
  rmSync(staging, { recursive: true, force: true });
  return binary;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs helm; never throws on a non-zero exit (the result says), so tests can assert failures. */
export async function helm(args: readonly string[], kubeconfig?: string): Promise<HelmResult> {
  const bin = await helmBinary();
  const env = { ...process.env, HELM_CACHE_HOME: join(cacheRoot(), "helm-home", "cache"), HELM_CONFIG_HOME: join(cacheRoot(), "helm-home", "config"), HELM_DATA_HOME: join(cacheRoot(), "helm-home", "data") };
  try {
    const { stdout, stderr } = await run(bin, [...args, ...(kubeconfig ? ["--kubeconfig", kubeconfig] : [])], { env, maxBuffer: 32 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}
