/** Small builders for the objects integration tests create through the API server. */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import type { PullSecretExport, PullSecretExportSpec } from "../../src/api/types.js";

export interface Clients {
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

export function clientsFor(kc: KubeConfig): Clients {
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

let counter = 0;
/** A namespace name no other test uses (the control plane is shared by every file of a run). */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export function dockerConfigJson(auths: Record<string, { username: string; password: string }>): string {
  const entries = Object.fromEntries(Object.entries(auths).map(([key, { username, password }]) => [
    key, { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") },
  ]));
  return JSON.stringify({ auths: entries });
}

export function sourceSecret(namespace: string, name: string, json: string, annotations: Record<string, string> = {}): V1Secret {
  return {
    metadata: { name, namespace, annotations },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(json).toString("base64") },
  };
}

export async function createNamespace(c: Clients, name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name, annotations, labels } } });
}

export async function createExport(c: Clients, namespace: string, name: string, spec: PullSecretExportSpec): Promise<PullSecretExport> {
  return await c.custom.createNamespacedCustomObject({
    group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: "PullSecretExport", metadata: { name, namespace }, spec },
  }) as PullSecretExport;
}

export async function getExport(c: Clients, namespace: string, name: string): Promise<PullSecretExport> {
  return await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace, name }) as PullSecretExport;
}

export function pod(name: string, images: string[], extra: Partial<V1Pod["spec"]> = {}, annotations?: Record<string, string>): V1Pod {
  return {
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })), ...extra },
  };
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})` : ""}`);
}

export async function readSecret(c: Clients, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await c.core.readNamespacedSecret({ namespace, name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** The value of a counter in regcred's /metrics text, 0 when absent. */
export async function metricValue(metricsPort: number, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf("}"));
    const have = inside.split(",");
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.indexOf("}") + 1).trim());
  }
  return 0;
}

/** Runs a create the API server must refuse through regcred (403), and returns regcred's message. */
export async function deniedMessage(create: () => Promise<unknown>): Promise<string> {
  try {
    await create();
  } catch (err) {
    const e = err as { code?: number; body?: string };
    expect(e.code).toBe(403);
    return (JSON.parse(e.body ?? "{}") as { message?: string }).message ?? "";
  }
  throw new Error("the API server admitted what regcred should have denied");
}
