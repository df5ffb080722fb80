/**
 * Helpers for the controller and leader-election integration tests: sources and exports, polling for
 * status, copies and Events, taking regcred's webhooks away for a moment, and denying chosen writes
 * with a temporary ValidatingAdmissionPolicy (to make the API server refuse what regcred sends).
 */
import { AdmissionregistrationV1Api, type CoreV1Event, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { ANNOTATION_ACCESS, ANNOTATION_INJECT, LABEL_INJECT } from "../../src/api/names.js";
import { findCondition, type Condition, type PullSecretExport } from "../../src/api/types.js";
import { dataHash } from "../../src/copies/naming.js";
import { clientsFor, dockerConfigJson, eventually, getExport, readSecret, uniqueName, type Clients } from "./fixtures.js";
import { registerWebhooks, unregisterWebhooks, type TestRegcred } from "./regcred.js";

export const SOURCE_NS = "registry-creds";

export type Auths = Record<string, { username: string; password: string }>;

/** The `data` of a dockerconfigjson Secret holding `auths`. */
export function dockerData(auths: Auths): Record<string, string> {
  return { ".dockerconfigjson": Buffer.from(dockerConfigJson(auths)).toString("base64") };
}

/** The registry keys of a copy's (or source's) `.dockerconfigjson`. */
export function registryKeysOf(secret: V1Secret | undefined): string[] {
  const raw = secret?.data?.[".dockerconfigjson"];
  if (raw === undefined) return [];
  const doc = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as { auths?: Record<string, unknown> };
  return Object.keys(doc.auths ?? {}).sort();
}

/** The `regcred.dev/data-hash` a copy holding `data` must carry. */
export function expectedHash(data: Record<string, string> | undefined): string {
  return dataHash(data ?? {});
}

/** Creates a source secret, declared read-only unless other annotations are given. */
export async function createSource(c: Clients, namespace: string, name: string, auths: Auths,
  annotations: Record<string, string> = { [ANNOTATION_ACCESS]: "read-only" }): Promise<V1Secret> {
  return await c.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name, namespace, annotations }, type: "kubernetes.io/dockerconfigjson", data: dockerData(auths) },
  });
}

/** Read-modify-write of a Secret, retried when someone (the controller marking it) wrote in between. */
export async function updateSecret(c: Clients, namespace: string, name: string, change: (s: V1Secret) => void): Promise<V1Secret> {
  for (let attempt = 1; ; attempt++) {
    const secret = await c.core.readNamespacedSecret({ namespace, name });
    change(secret);
    try {
      return await c.core.replaceNamespacedSecret({ namespace, name, body: secret });
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || attempt >= 5) throw err;
    }
  }
}

/** Creates an opted-in namespace and waits until regcred's cache has it (with the mirrored label). */
export async function optedInNamespace(c: Clients, regcred: TestRegcred, labels: Record<string, string> = {}, prefix = "team"): Promise<string> {
  const name = uniqueName(prefix);
  await c.core.createNamespace({ body: { metadata: { name, annotations: { [ANNOTATION_INJECT]: "true" }, labels } } });
  await eventually(`regcred to see namespace ${name}`, () => Promise.resolve(regcred.state.namespace(name)?.labels[LABEL_INJECT] === "true" ? true : undefined));
  return name;
}

/** Polls the export until `check` accepts it; returns it. */
export async function waitForExport(c: Clients, namespace: string, name: string, what: string,
  check: (e: PullSecretExport) => boolean, timeoutMs = 20_000): Promise<PullSecretExport> {
  return await eventually(`export ${namespace}/${name}: ${what}`, async () => {
    const e = await getExport(c, namespace, name);
    return check(e) ? e : undefined;
  }, timeoutMs);
}

export function conditionIs(e: PullSecretExport, type: string, status: Condition["status"], reason?: string): boolean {
  const cond = findCondition(e.status, type);
  return cond?.status === status && (reason === undefined || cond.reason === reason);
}

/** Polls a Secret until `check` accepts it (an absent Secret is passed as undefined). */
export async function waitForSecret(c: Clients, namespace: string, name: string, what: string,
  check: (s: V1Secret | undefined) => boolean, timeoutMs = 20_000): Promise<V1Secret | undefined> {
  return await eventually(`secret ${namespace}/${name}: ${what}`, async () => {
    const s = await readSecret(c, namespace, name);
    return check(s) ? { s } : undefined;
  }, timeoutMs).then((r) => r.s);
}

export async function waitForCopy(c: Clients, namespace: string, name: string, timeoutMs = 20_000): Promise<V1Secret> {
  const s = await waitForSecret(c, namespace, name, "to exist", (x) => x !== undefined, timeoutMs);
  if (!s) throw new Error("unreachable");
  return s;
}

export async function waitForGone(c: Clients, namespace: string, name: string, timeoutMs = 20_000): Promise<void> {
  await waitForSecret(c, namespace, name, "to be gone", (x) => x === undefined, timeoutMs);
}

/** Events whose involvedObject is the export. */
export async function exportEvents(c: Clients, namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=PullSecretExport,involvedObject.name=${name}` });
  return list.items;
}

export async function waitForEvent(c: Clients, namespace: string, name: string, reason: string,
  match: (e: CoreV1Event) => boolean = () => true, timeoutMs = 20_000): Promise<CoreV1Event> {
  return await eventually(`an Event ${reason} on export ${namespace}/${name}`, async () =>
    (await exportEvents(c, namespace, name)).find((e) => e.reason === reason && match(e)), timeoutMs);
}

/**
 * Runs `body` while regcred's webhook configurations are gone, so the API server admits what the
 * webhooks would have changed or denied; registers them again afterwards (even when `body` fails).
 */
export async function withoutWebhooks<T>(admin: KubeConfig, regcred: TestRegcred, body: () => Promise<T>): Promise<T> {
  const c = clientsFor(admin);
  await unregisterWebhooks(admin);
  // The API server drops the configurations from a watch, a moment later: wait until the namespace
  // webhook no longer mirrors the label on a dry run.
  await eventually("the API server to stop calling regcred's webhooks", async () => {
    const ns = await c.core.createNamespace({ body: { metadata: { name: uniqueName("probe"), annotations: { [ANNOTATION_INJECT]: "true" } } }, dryRun: "All" });
    return ns.metadata?.labels?.[LABEL_INJECT] === undefined ? true : undefined;
  });
  try {
    return await body();
  } finally {
    await registerWebhooks(admin, regcred.url, regcred.caBundle, regcred.settings);
  }
}

export interface DenyPolicy {
  /** For names of the policy and its binding. */
  name: string;
  resources: string[];
  apiGroups?: string[];
  operations: ("CREATE" | "UPDATE" | "DELETE")[];
  resourceNames?: string[];
  /** Only requests in this namespace. */
  namespace: string;
  /** CEL; the request is denied when it is false. */
  expression: string;
  message: string;
  /** A request that the policy must deny once it is in force (a dry run, so nothing is stored). */
  probe: () => Promise<unknown>;
}

/**
 * A ValidatingAdmissionPolicy + binding that makes the API server refuse chosen writes. Resolves once
 * the API server enforces it (the probe is denied); returns a function that removes it again.
 */
export async function denyWithPolicy(admin: KubeConfig, p: DenyPolicy): Promise<() => Promise<void>> {
  const api = admin.makeApiClient(AdmissionregistrationV1Api);
  const namespaceSelector = { matchLabels: { "kubernetes.io/metadata.name": p.namespace } };
  await api.createValidatingAdmissionPolicy({
    body: {
      metadata: { name: p.name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          namespaceSelector,
          resourceRules: [{
            apiGroups: p.apiGroups ?? [""], apiVersions: ["*"], operations: p.operations, resources: p.resources,
            ...(p.resourceNames ? { resourceNames: p.resourceNames } : {}),
          }],
        },
        validations: [{ expression: p.expression, message: p.message }],
      },
    },
  });
  await api.createValidatingAdmissionPolicyBinding({
    body: { metadata: { name: p.name }, spec: { policyName: p.name, validationActions: ["Deny"], matchResources: { namespaceSelector } } },
  });
  const remove = async (): Promise<void> => {
    await api.deleteValidatingAdmissionPolicyBinding({ name: p.name }).catch(() => undefined);
    await api.deleteValidatingAdmissionPolicy({ name: p.name }).catch(() => undefined);
  };
  let last = "the probe was admitted";
  try {
    await eventually(`ValidatingAdmissionPolicy ${p.name} to be enforced`, async () => {
      try {
        await p.probe();
        last = "the probe was admitted";
        return undefined;
      } catch (err) {
        const e = err as { code?: number; body?: string };
        last = `the probe failed with ${String(e.code)}: ${(e.body ?? String(err)).slice(0, 400)}`;
        return (e.code === 403 || e.code === 422) && (e.body ?? "").includes(p.message) ? true : undefined;
      }
    });
  } catch (err) {
    await remove();
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last: ${last}`);
  }
  return remove;
}

/** Creates namespaces concurrently, `batch` at a time. */
export async function createNamespaces(c: Clients, names: readonly string[], annotations: Record<string, string>,
  labels: Record<string, string>, batch = 50): Promise<void> {
  for (let i = 0; i < names.length; i += batch) {
    await Promise.all(names.slice(i, i + batch).map((name) => c.core.createNamespace({ body: { metadata: { name, annotations, labels } } })));
  }
}
