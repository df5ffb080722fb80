import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { loadYaml, type ApiextensionsV1Api, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { statusCodeOf } from "../observability/errors.js";

const CRD_FILE = fileURLToPath(new URL("../../charts/regcred/crds/pullsecretexports.regcred.dev.yaml", import.meta.url));

export function loadCrd(file = CRD_FILE): V1CustomResourceDefinition {
  return loadYaml(readFileSync(file, "utf8"));
}

/** Creates or replaces the PullSecretExport CRD and waits until the API server serves it. */
export async function applyCrd(api: ApiextensionsV1Api, crd = loadCrd(), timeoutMs = 30_000): Promise<void> {
  const name = crd.metadata?.name ?? "";
  try {
    const existing = await api.readCustomResourceDefinition({ name });
    await api.replaceCustomResourceDefinition({ name, body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
  } catch (err) {
    if (statusCodeOf(err) !== 404) throw err;
    await api.createCustomResourceDefinition({ body: crd });
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const current = await api.readCustomResourceDefinition({ name });
    if (current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    await sleep(200);
  }
  throw new Error(`the CRD ${name} was not established within ${timeoutMs / 1000} s`);
}
