/**
 * What the CLI and the console do in the cluster, with the user's own credentials: list registry
 * secrets with their exports, show one, create one, export and unexport it, opt namespaces in and
 * out. Every read and write is the user's, so Kubernetes RBAC decides; a list the user may not make
 * cluster-wide falls back to the namespaces they can read.
 *
 * Results hold names, registry keys, verdicts and counts: never Secret data.
 */
import type { V1LabelSelector, V1Namespace, V1Secret } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import {
  ANNOTATION_ACCESS, ANNOTATION_INJECT, ANNOTATION_SOURCE, EXPORT_API_VERSION, EXPORT_KIND, EXPORT_PLURAL, GROUP, LABEL_EXPORT,
  LABEL_EXPORT_NAMESPACE, LABEL_INJECT, LABEL_MANAGED_BY, MANAGED_BY_VALUE, SECRET_TYPE_DOCKERCFG, SECRET_TYPE_DOCKERCONFIGJSON, VERSION,
} from "../api/names.js";
import { findCondition, resolveSpec, type AccessStatus, type Condition, type PullSecretExport, type PullSecretExportSpec } from "../api/types.js";
import type { KubeClients } from "../cluster/kube.js";
import { joinExport } from "../cluster/exportIndex.js";
import { copyIsCurrent, isRegcredCopy } from "../copies/desired.js";
import { exportLabelValue } from "../copies/naming.js";
import { parseSourceSecret } from "../registry/dockerConfig.js";
import { apiCliError, apiFailure, CliError, formatFailure, isForbidden, isNotFound } from "./apiError.js";
import { formatLabelSelector } from "./labelSelector.js";
import { registrySecret, secretForms, type RegistryLogin } from "./registrySecret.js";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const REGISTRY_TYPES = [SECRET_TYPE_DOCKERCONFIGJSON, SECRET_TYPE_DOCKERCFG] as const;
const NOT_A_COPY = `${LABEL_MANAGED_BY}!=${MANAGED_BY_VALUE}`;
const EVENTS_SHOWN = 10;

export type Scope = { namespace: string } | { allNamespaces: true };

// ------------------------------------------------------------------------------------------------
// Listing
// ------------------------------------------------------------------------------------------------

export interface SecretRow {
  namespace: string;
  name: string;
  /** The Secret's type; "" when the export's source does not exist. */
  type: string;
  sourceFound: boolean;
  /** Registry keys of the source, as written in it. */
  registries: string[];
  /** Why the source cannot be read as registry credentials, when it cannot. */
  problem?: string;
  exported: boolean;
  /** The export's targets: `*`, names, and a selector, as one line. "" when not exported. */
  exportedTo: string;
  toNamespaces: string[];
  selector?: string;
  provisioning?: string;
  access?: AccessStatus;
  /** Namespaces that hold a current copy (the export's status); undefined when not exported or not counted yet. */
  copies?: number;
  /** The export's Ready condition: True, False, Unknown, or "" when not exported or not yet reported. */
  ready: string;
  readyReason?: string;
  readyMessage?: string;
  createdAt?: string;
}

export interface ListResult {
  rows: SecretRow[];
  /** What could not be read (for example namespaces the user may not list secrets in). */
  warnings: string[];
}

export async function listRegistrySecrets(clients: KubeClients, scope: Scope): Promise<ListResult> {
  const warnings: string[] = [];
  const [secrets, exports] = await Promise.all([
    listRegistrySourceSecrets(clients, scope, warnings),
    listExports(clients, scope, warnings),
  ]);
  const byKey = new Map<string, PullSecretExport>();
  for (const exp of exports) byKey.set(`${exp.metadata.namespace ?? ""}/${exp.metadata.name ?? ""}`, exp);
  const rows: SecretRow[] = [];
  for (const secret of secrets) {
    const key = `${secret.metadata?.namespace ?? ""}/${secret.metadata?.name ?? ""}`;
    rows.push(secretRow(secret, byKey.get(key)));
    byKey.delete(key);
  }
  // Exports whose source is missing (or not readable): still shown, so nothing exported is hidden.
  for (const exp of byKey.values()) rows.push(secretRow(undefined, exp));
  rows.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
  return { rows, warnings: [...new Set(warnings)] };
}

export function secretRow(secret: V1Secret | undefined, exp: PullSecretExport | undefined): SecretRow {
  const namespace = secret?.metadata?.namespace ?? exp?.metadata.namespace ?? "";
  const name = secret?.metadata?.name ?? exp?.metadata.name ?? "";
  const row: SecretRow = {
    namespace, name, type: secret?.type ?? "", sourceFound: secret !== undefined, registries: [],
    exported: exp !== undefined, exportedTo: "", toNamespaces: [], ready: "",
  };
  const createdAt = dateText(secret?.metadata?.creationTimestamp ?? exp?.metadata.creationTimestamp);
  if (createdAt) row.createdAt = createdAt;
  if (secret) {
    const creds = parseSourceSecret({ type: secret.type, data: secret.data });
    if (creds.ok) row.registries = creds.credentials.map((c) => c.key);
    else row.problem = creds.message;
  }
  if (exp) {
    const spec = resolveSpec(exp.spec);
    row.toNamespaces = spec.toNamespaces;
    if (spec.namespaceSelector) row.selector = formatLabelSelector(spec.namespaceSelector);
    row.exportedTo = describeTargets(spec.toNamespaces, spec.namespaceSelector);
    row.provisioning = spec.provisioning;
    if (exp.status?.access) row.access = exp.status.access;
    if (typeof exp.status?.copies === "number") row.copies = exp.status.copies;
    const ready = findCondition(exp.status, "Ready");
    if (ready) {
      row.ready = ready.status;
      row.readyReason = ready.reason;
      row.readyMessage = ready.message;
    }
  }
  return row;
}

/** `*`, `a,b`, `* matching team=a`, or `nothing` for an export that targets no namespace. */
export function describeTargets(toNamespaces: readonly string[], selector: V1LabelSelector | undefined): string {
  const names = toNamespaces.includes("*") ? "*" : toNamespaces.join(",");
  if (names === "") return "nothing";
  return selector ? `${names} matching ${formatLabelSelector(selector)}` : names;
}

async function listRegistrySourceSecrets(clients: KubeClients, scope: Scope, warnings: string[]): Promise<V1Secret[]> {
  const lists = await Promise.all(REGISTRY_TYPES.map((type) => inScope(clients, scope, warnings, "secrets",
    async () => (await clients.core.listSecretForAllNamespaces({ fieldSelector: `type=${type}`, labelSelector: NOT_A_COPY })).items,
    async (namespace) => (await clients.core.listNamespacedSecret({ namespace, fieldSelector: `type=${type}`, labelSelector: NOT_A_COPY })).items,
  )));
  return lists.flat();
}

export async function listExports(clients: KubeClients, scope: Scope, warnings: string[]): Promise<PullSecretExport[]> {
  try {
    return await inScope(clients, scope, warnings, "pullsecretexports",
      async () => ((await clients.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL })) as { items: PullSecretExport[] }).items,
      async (namespace) => ((await clients.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: EXPORT_PLURAL })) as { items: PullSecretExport[] }).items,
    );
  } catch (err) {
    // No CRD: regcred is not installed in this cluster; the secrets can still be listed.
    if (isNotFound(err)) {
      warnings.push("the PullSecretExport API (regcred.dev/v1alpha1) is not installed in this cluster: exports cannot be shown");
      return [];
    }
    throw err;
  }
}

/**
 * A list in one namespace, or in all: cluster-wide when the user may, else namespace by namespace
 * over the namespaces they can list, skipping (and reporting) the ones they may not read.
 */
async function inScope<T>(
  clients: KubeClients, scope: Scope, warnings: string[], resource: string,
  all: () => Promise<T[]>, one: (namespace: string) => Promise<T[]>,
): Promise<T[]> {
  if ("namespace" in scope) return one(scope.namespace);
  try {
    return await all();
  } catch (err) {
    if (!isForbidden(err)) throw err;
    let namespaces: string[];
    try {
      namespaces = (await clients.core.listNamespace()).items.map((n) => n.metadata?.name ?? "").filter((n) => n !== "");
    } catch {
      throw err;
    }
    const skipped: string[] = [];
    const results = await Promise.all(namespaces.map(async (namespace) => {
      try {
        return await one(namespace);
      } catch (e) {
        if (isForbidden(e)) {
          skipped.push(namespace);
          return [];
        }
        throw e;
      }
    }));
    if (skipped.length > 0) {
      warnings.push(`you may not list ${resource} in ${skipped.length} namespace(s): ${skipped.sort().slice(0, 10).join(", ")}${skipped.length > 10 ? ", …" : ""}`);
    }
    return results.flat();
  }
}

// ------------------------------------------------------------------------------------------------
// One secret in detail
// ------------------------------------------------------------------------------------------------

export interface CopyInfo {
  namespace: string;
  name: string;
  /** current: the source's data now; stale: older data (the controller updates it); unknown: the source cannot be read. */
  state: "current" | "stale" | "unknown";
}

export interface EventInfo {
  type: string;
  reason: string;
  message: string;
  count: number;
  lastSeen: string;
  from: string;
}

export interface SecretStatus {
  namespace: string;
  name: string;
  source: {
    found: boolean;
    type?: string;
    registries: string[];
    problem?: string;
    /** The owner's regcred.dev/access annotation. */
    declaredAccess?: string;
    createdAt?: string;
    /** Why the source could not be read (for example Forbidden). */
    error?: string;
  };
  export?: {
    toNamespaces: string[];
    selector?: string;
    exportedTo: string;
    registries: string[];
    provisioning: string;
    onRevoke: string;
    repositories: string[];
    createdAt?: string;
    generation?: number;
    observedGeneration?: number;
    access?: AccessStatus;
    copies?: number;
    conditions: Condition[];
  };
  copies: CopyInfo[];
  copiesError?: string;
  events: EventInfo[];
  eventsError?: string;
}

/** @throws CliError (NotFound) when neither the secret nor its export exists. */
export async function secretStatus(clients: KubeClients, namespace: string, name: string): Promise<SecretStatus> {
  const [source, exp] = await Promise.all([readSecretOrError(clients, namespace, name), readExport(clients, namespace, name)]);
  if (source.secret === undefined && source.error === undefined && exp === undefined) {
    const message = `secrets "${name}" not found in namespace ${namespace}, and it has no export`;
    throw new CliError(`Error from server (NotFound): ${message}`, 1, { code: 404, reason: "NotFound", message });
  }
  const status: SecretStatus = { namespace, name, source: { found: source.secret !== undefined, registries: [] }, copies: [], events: [] };
  if (source.error) status.source.error = source.error;
  if (source.secret) {
    const s = source.secret;
    status.source.type = s.type ?? "";
    const creds = parseSourceSecret({ type: s.type, data: s.data });
    if (creds.ok) status.source.registries = creds.credentials.map((c) => c.key);
    else status.source.problem = creds.message;
    const declared = s.metadata?.annotations?.[ANNOTATION_ACCESS];
    if (declared) status.source.declaredAccess = declared;
    const created = dateText(s.metadata?.creationTimestamp);
    if (created) status.source.createdAt = created;
  }
  if (exp) {
    const spec = resolveSpec(exp.spec);
    status.export = {
      toNamespaces: spec.toNamespaces,
      exportedTo: describeTargets(spec.toNamespaces, spec.namespaceSelector),
      registries: spec.registries,
      provisioning: spec.provisioning,
      onRevoke: spec.onRevoke,
      repositories: spec.repositories,
      conditions: exp.status?.conditions ?? [],
    };
    if (spec.namespaceSelector) status.export.selector = formatLabelSelector(spec.namespaceSelector);
    const created = dateText(exp.metadata.creationTimestamp);
    if (created) status.export.createdAt = created;
    if (exp.metadata.generation !== undefined) status.export.generation = exp.metadata.generation;
    if (exp.status?.observedGeneration !== undefined) status.export.observedGeneration = exp.status.observedGeneration;
    if (exp.status?.access) status.export.access = exp.status.access;
    if (typeof exp.status?.copies === "number") status.export.copies = exp.status.copies;
  }
  const template = exp && source.secret ? joinExport(exp, source.secret).distributable?.template : undefined;
  const [copies, events] = await Promise.all([
    listCopies(clients, namespace, name).then(
      (found) => ({ found }),
      (err: unknown) => ({ error: formatFailure(apiFailure(err)) }),
    ),
    listEvents(clients, namespace, name).then(
      (found) => ({ found }),
      (err: unknown) => ({ error: formatFailure(apiFailure(err)) }),
    ),
  ]);
  if ("found" in copies) {
    status.copies = copies.found.map((c): CopyInfo => ({
      namespace: c.metadata?.namespace ?? "",
      name: c.metadata?.name ?? "",
      state: template === undefined ? "unknown" : copyIsCurrent(c, template) ? "current" : "stale",
    })).sort((a, b) => cmp(a.namespace, b.namespace));
  } else {
    status.copiesError = copies.error;
  }
  if ("found" in events) status.events = events.found;
  else status.eventsError = events.error;
  return status;
}

/** regcred's copies of an export, in every namespace the user can read. */
export async function listCopies(clients: KubeClients, namespace: string, name: string): Promise<V1Secret[]> {
  const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE},${LABEL_EXPORT_NAMESPACE}=${namespace},${LABEL_EXPORT}=${exportLabelValue(name)}`;
  const warnings: string[] = [];
  const found = await inScope(clients, { allNamespaces: true }, warnings, "secrets",
    async () => (await clients.core.listSecretForAllNamespaces({ labelSelector })).items,
    async (ns) => (await clients.core.listNamespacedSecret({ namespace: ns, labelSelector })).items,
  );
  // The label holds a hash for long names: the annotation says which export a copy belongs to.
  return found.filter((s) => isRegcredCopy(s) && s.metadata?.annotations?.[ANNOTATION_SOURCE] === `${namespace}/${name}`);
}

/** The export's most recent Events, newest first. */
export async function listEvents(clients: KubeClients, namespace: string, name: string): Promise<EventInfo[]> {
  const list = await clients.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${EXPORT_KIND},involvedObject.name=${name}` });
  return list.items
    .map((e) => ({
      type: e.type ?? "",
      reason: e.reason ?? "",
      message: e.message ?? "",
      count: e.count ?? 1,
      lastSeen: dateText(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) ?? "",
      from: e.source?.component ?? e.reportingComponent ?? "",
    }))
    .sort((a, b) => cmp(b.lastSeen, a.lastSeen))
    .slice(0, EVENTS_SHOWN);
}

async function readSecretOrError(clients: KubeClients, namespace: string, name: string): Promise<{ secret?: V1Secret; error?: string }> {
  try {
    return { secret: await clients.core.readNamespacedSecret({ namespace, name }) };
  } catch (err) {
    if (isNotFound(err)) return {};
    if (isForbidden(err)) return { error: formatFailure(apiFailure(err)) };
    throw err;
  }
}

export async function readExport(clients: KubeClients, namespace: string, name: string): Promise<PullSecretExport | undefined> {
  try {
    return await clients.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace, name }) as PullSecretExport;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------
// Writes
// ------------------------------------------------------------------------------------------------

export interface ExportRequest {
  /** Names or "*"; undefined: "*" unless a selector is given (then the selector alone decides). */
  toNamespaces?: string[] | undefined;
  namespaceSelector?: V1LabelSelector | undefined;
  eager?: boolean | undefined;
}

export interface WriteResult {
  /** kubectl-style lines: `secret/x created`. */
  done: string[];
  /** Warnings the API server (regcred's webhooks) sent back. */
  warnings: string[];
}

export interface CreateRequest {
  namespace: string;
  name: string;
  login: RegistryLogin;
  declareReadOnly?: boolean | undefined;
  export?: ExportRequest | undefined;
  dryRun?: boolean | undefined;
}

/**
 * Creates the source secret and, when asked, its export. When the export is refused (regcred's
 * webhook denies writable credentials, or `"*"` from a namespace that may not), the secret just
 * created is deleted again, so nothing half-done is left and the same command can be run again.
 */
export async function createRegistrySecret(clients: KubeClients, req: CreateRequest): Promise<WriteResult> {
  const body = registrySecret({ namespace: req.namespace, name: req.name, login: req.login, declareReadOnly: req.declareReadOnly ?? false });
  const secrets = secretForms(req.login);
  const dryRun = req.dryRun ? "All" : undefined;
  const result: WriteResult = { done: [], warnings: [] };
  let created: V1Secret;
  try {
    const res = await clients.core.createNamespacedSecretWithHttpInfo({ namespace: req.namespace, body, ...(dryRun ? { dryRun } : {}) });
    created = res.data;
    result.warnings.push(...warningsOf(res.headers));
  } catch (err) {
    throw apiCliError(err, secrets);
  }
  result.done.push(`secret/${req.name} created${dryRun ? " (server dry run)" : ""}`);
  if (!req.export) return result;
  try {
    const exported = await writeExport(clients, req.namespace, req.name, req.export, undefined, dryRun);
    result.done.push(exported.done);
    result.warnings.push(...exported.warnings);
  } catch (err) {
    if (dryRun) throw apiCliError(err, secrets);
    let cleanup: string;
    try {
      await clients.core.deleteNamespacedSecret({ namespace: req.namespace, name: req.name, ...(created.metadata?.uid ? { body: { preconditions: { uid: created.metadata.uid } } } : {}) });
      cleanup = `\nthe export was refused, so secret/${req.name} was deleted again; nothing was left behind`;
    } catch (deleteErr) {
      cleanup = `\nthe export was refused; secret/${req.name} was created and could not be deleted again (${formatFailure(apiFailure(deleteErr))})`;
    }
    throw apiCliError(err, secrets, cleanup);
  }
  return result;
}

/** Creates the export of a secret, or changes where an existing export sends it. */
export async function exportSecret(clients: KubeClients, namespace: string, name: string, req: ExportRequest): Promise<WriteResult> {
  const result: WriteResult = { done: [], warnings: [] };
  try {
    await clients.core.readNamespacedSecret({ namespace, name });
  } catch (err) {
    if (isNotFound(err)) {
      const message = `secrets "${name}" not found in namespace ${namespace}; an export is named after its source secret: create the secret first (regcred create ${name} -n ${namespace} ...)`;
      throw new CliError(`Error from server (NotFound): ${message}`, 1, { code: 404, reason: "NotFound", message });
    }
    // Someone who may export but not read secrets can still export: the webhook checks the source.
    if (!isForbidden(err)) throw apiCliError(err);
  }
  try {
    const existing = await readExport(clients, namespace, name);
    const written = await writeExport(clients, namespace, name, req, existing, undefined);
    result.done.push(written.done);
    result.warnings.push(...written.warnings);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw apiCliError(err);
  }
  return result;
}

/** The spec an export request asks for, over what an existing export had (targets and provisioning replaced, the rest kept). */
export function exportSpecFor(req: ExportRequest, existing: PullSecretExportSpec | undefined): PullSecretExportSpec {
  const spec: PullSecretExportSpec = { ...(existing ?? {}) };
  delete spec.toNamespaces;
  delete spec.namespaceSelector;
  delete spec.provisioning;
  if (req.toNamespaces !== undefined) spec.toNamespaces = req.toNamespaces;
  else if (req.namespaceSelector === undefined) spec.toNamespaces = ["*"];
  if (req.namespaceSelector !== undefined) spec.namespaceSelector = req.namespaceSelector;
  if (req.eager) spec.provisioning = "Eager";
  return spec;
}

async function writeExport(
  clients: KubeClients, namespace: string, name: string, req: ExportRequest, existing: PullSecretExport | undefined, dryRun: string | undefined,
): Promise<{ done: string; warnings: string[] }> {
  const spec = exportSpecFor(req, existing?.spec);
  const resource = `pullsecretexport.${GROUP}/${name}`;
  if (!existing) {
    const res = await clients.custom.createNamespacedCustomObjectWithHttpInfo({
      group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace,
      body: { apiVersion: EXPORT_API_VERSION, kind: EXPORT_KIND, metadata: { name, namespace }, spec },
      ...(dryRun ? { dryRun } : {}),
    });
    return { done: `${resource} created${dryRun ? " (server dry run)" : ""}`, warnings: warningsOf(res.headers) };
  }
  if (JSON.stringify(resolveSpec(spec)) === JSON.stringify(resolveSpec(existing.spec))) return { done: `${resource} unchanged`, warnings: [] };
  const res = await clients.custom.replaceNamespacedCustomObjectWithHttpInfo({
    group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace, name,
    body: { ...existing, spec },
  });
  return { done: `${resource} configured`, warnings: warningsOf(res.headers) };
}

/** Deletes the export; regcred's controller then revokes its copies (or orphans them, as onRevoke says). */
export async function unexportSecret(clients: KubeClients, namespace: string, name: string): Promise<WriteResult> {
  const exp = await readExport(clients, namespace, name).catch((err: unknown) => {
    throw apiCliError(err);
  });
  if (!exp) {
    const message = `${EXPORT_PLURAL}.${GROUP} "${name}" not found in namespace ${namespace}: the secret is not exported`;
    throw new CliError(`Error from server (NotFound): ${message}`, 1, { code: 404, reason: "NotFound", message });
  }
  try {
    await clients.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL, namespace, name });
  } catch (err) {
    throw apiCliError(err);
  }
  const onRevoke = resolveSpec(exp.spec).onRevoke;
  const copies = exp.status?.copies ?? 0;
  const what = onRevoke === "Orphan" ? `its ${copies} copies are left in place (onRevoke: Orphan)` : `regcred revokes its ${copies} copies`;
  return { done: [`pullsecretexport.${GROUP}/${name} deleted; ${what}`], warnings: [] };
}

/** Sets `regcred.dev/inject` on a namespace: "true" opts it in, "false" opts it out (also in allNamespaces mode). */
export async function setOptIn(clients: KubeClients, namespace: string, optIn: boolean): Promise<WriteResult> {
  let ns: V1Namespace;
  try {
    ns = await clients.core.readNamespace({ name: namespace });
  } catch (err) {
    throw apiCliError(err);
  }
  const value = optIn ? "true" : "false";
  const verb = optIn ? "opted in" : "opted out";
  if (ns.metadata?.annotations?.[ANNOTATION_INJECT] === value && (ns.metadata.labels?.[LABEL_INJECT] ?? value) === value) {
    return { done: [`namespace/${namespace} unchanged (already ${verb})`], warnings: [] };
  }
  // A label set by hand with the other value would contradict the annotation: set both.
  const labels = ns.metadata?.labels?.[LABEL_INJECT] !== undefined ? { labels: { [LABEL_INJECT]: value } } : {};
  try {
    await clients.core.patchNamespace({ name: namespace, body: { metadata: { annotations: { [ANNOTATION_INJECT]: value }, ...labels } } }, MERGE_PATCH);
  } catch (err) {
    throw apiCliError(err);
  }
  return { done: [`namespace/${namespace} ${verb}`], warnings: [] };
}

/** The namespaces the user can list, for the console's form; empty when they may not. */
export async function namespaceNames(clients: KubeClients): Promise<string[]> {
  try {
    return (await clients.core.listNamespace()).items.map((n) => n.metadata?.name ?? "").filter((n) => n !== "").sort();
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------------------------------------

/** The texts of `Warning: 299 - "…"` headers. */
export function warningsOf(headers: Record<string, string> | undefined): string[] {
  const raw = headers?.warning ?? headers?.Warning;
  if (raw === undefined || raw === "") return [];
  const found: string[] = [];
  const re = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(raw); m !== null; m = re.exec(raw)) found.push((m[1] ?? "").replace(/\\(.)/g, "$1"));
  return found.length > 0 ? found : [raw];
}

function dateText(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const d = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
