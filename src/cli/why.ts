/**
 * `regcred why`: why a pod did or did not get registry credentials, worked out from what the user
 * can read, with the same rules regcred's webhook applies (eligibility.ts, keyring.ts, the copy
 * marks). Pure: the command gathers the objects, this decides and explains.
 */
import type { V1LabelSelector, V1MutatingWebhook, V1MutatingWebhookConfiguration, V1Pod, V1Secret } from "@kubernetes/client-node";
import { ALWAYS_EXCLUDED_NAMESPACES, ANNOTATION_INJECT, ANNOTATION_INJECTED, ANNOTATION_NAMESPACE_EXPORTS, ANNOTATION_SKIP, LABEL_INJECT } from "../api/names.js";
import { isReady, findCondition, resolveSpec, type PullSecretExport } from "../api/types.js";
import { exportTargetsNamespace, namespaceAcceptsExport, namespaceOptedIn, type InjectionPolicy, type NamespaceInfo } from "../admission/eligibility.js";
import { labelSelectorMatches } from "../admission/selector.js";
import type { InjectionMode } from "../config/settings.js";
import { joinExport } from "../cluster/exportIndex.js";
import { copyIsCurrent, isRegcredCopy } from "../copies/desired.js";
import { copyName } from "../copies/naming.js";
import { parseImageReference, type ImageReference } from "../registry/imageRef.js";
import { registryKeyMatchesImage, registryKeysEqual } from "../registry/keyring.js";
import { describeTargets } from "./operations.js";
import { safeText } from "./output.js";

export const POD_WEBHOOK_NAME = "pods.regcred.dev";
const NAME_LABEL = "kubernetes.io/metadata.name";

/** What the command found out about the webhook's serving certificate. */
export type CaBundleCheck =
  | { result: "matches"; detail: string }
  | { result: "mismatch"; detail: string }
  | { result: "missing"; detail: string }
  | { result: "unreachable"; detail: string }
  | { result: "unchecked"; detail: string };

export interface ExportEvidence {
  export: PullSecretExport;
  /** The source secret; undefined when it does not exist or could not be read (then sourceError says why). */
  source: V1Secret | undefined;
  sourceError?: string;
  /** The Secret of the copy's name in the pod's namespace, if any. */
  copy: V1Secret | undefined;
  copyError?: string;
}

export interface WhyInput {
  pod: V1Pod;
  namespace: NamespaceInfo | undefined;
  namespaceError?: string;
  exports: ExportEvidence[];
  exportsError?: string;
  webhookConfig: V1MutatingWebhookConfiguration | undefined;
  webhookError?: string;
  caBundle: CaBundleCheck;
}

/** ok true: in the pod's favour; false: a reason it got nothing; null: neither (information). */
export interface Finding {
  ok: boolean | null;
  text: string;
}

export interface ImageFinding {
  image: string;
  registry?: string;
  repository?: string;
  error?: string;
}

export interface KeyMatch {
  key: string;
  image: string;
  matches: boolean;
}

export interface ExportFinding {
  export: string;
  /** Whether it would be handed to this pod if the pod were created now. */
  applies: boolean;
  findings: Finding[];
  matches: KeyMatch[];
  /** The Secret the pod would reference. */
  secretName: string;
  copyState: "source" | "current" | "stale" | "missing" | "conflict" | "unknown";
}

export interface Explanation {
  pod: string;
  namespace: string;
  imagePullSecrets: string[];
  /** What regcred recorded on the pod at admission (`regcred.dev/injected`). */
  injected: string[];
  /** What regcred would add if this pod were created now. */
  wouldInject: string[];
  summary: string;
  namespaceFindings: Finding[];
  podFindings: Finding[];
  images: ImageFinding[];
  exports: ExportFinding[];
  /** Exports that do not target the namespace, counted but not detailed past a few. */
  otherExports: number;
  webhookFindings: Finding[];
}

const OTHER_EXPORTS_SHOWN = 5;

export function explainPod(input: WhyInput): Explanation {
  const podName = input.pod.metadata?.name ?? "";
  const nsName = input.pod.metadata?.namespace ?? input.namespace?.name ?? "";
  const annotations = input.pod.metadata?.annotations ?? {};
  const imagePullSecrets = (input.pod.spec?.imagePullSecrets ?? []).map((r) => r.name ?? "").filter((n) => n !== "");
  const injected = (annotations[ANNOTATION_INJECTED] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");

  const webhook = podWebhook(input.webhookConfig);
  const policy = policyFrom(webhook);
  const namespace = input.namespace;

  // --- the namespace ---
  const namespaceFindings: Finding[] = [];
  let optedIn = false;
  if (!namespace) {
    namespaceFindings.push({ ok: null, text: `the namespace cannot be read${input.namespaceError ? `: ${input.namespaceError}` : ""}; opt-in cannot be checked` });
  } else {
    optedIn = namespaceOptedIn(namespace, policy.policy);
    namespaceFindings.push({ ok: optedIn, text: optInText(namespace, policy.policy, optedIn) });
    const limit = namespace.annotations[ANNOTATION_NAMESPACE_EXPORTS];
    if (limit !== undefined && limit.trim() !== "") {
      namespaceFindings.push({ ok: null, text: `takes only the exports listed in ${ANNOTATION_NAMESPACE_EXPORTS}: ${limit}` });
    }
  }

  // --- the pod ---
  const podFindings: Finding[] = [];
  const skipped = annotations[ANNOTATION_SKIP] === "true";
  if (skipped) podFindings.push({ ok: false, text: `the pod is annotated ${ANNOTATION_SKIP}: "true", so regcred leaves it alone` });
  const images = podImages(input.pod);
  if (images.length === 0) podFindings.push({ ok: false, text: "the pod has no images" });
  const parsed = images.filter((i): i is ImageFinding & { ref: ImageReference } => "ref" in i);
  for (const bad of images.filter((i) => i.error !== undefined)) {
    podFindings.push({ ok: false, text: `image ${bad.image} cannot be parsed (${bad.error ?? ""}); no credentials are matched to it` });
  }

  // --- the exports ---
  const exportFindings: ExportFinding[] = [];
  let otherExports = 0;
  const sorted = [...input.exports].sort((a, b) => key(a.export).localeCompare(key(b.export)));
  for (const ev of sorted) {
    const spec = resolveSpec(ev.export.spec);
    const targets = namespace ? exportTargetsNamespace(spec, namespace) : false;
    if (namespace && !targets) {
      otherExports++;
      if (otherExports > OTHER_EXPORTS_SHOWN) continue;
    }
    exportFindings.push(explainExport(ev, namespace, nsName, parsed, targets));
  }
  if (input.exportsError) podFindings.push({ ok: null, text: `exports cannot be listed: ${input.exportsError}` });

  // --- the webhook ---
  const webhookFindings = webhookText(input, webhook, policy.mode, namespace);

  const wouldInject = exportFindings.filter((e) => e.applies).map((e) => e.secretName);
  const summary = summarize({
    podName, nsName, injected, wouldInject, skipped, optedIn, namespace, webhook, input, exportFindings, hasImages: parsed.length > 0,
    selected: namespace && webhook?.namespaceSelector ? labelSelectorMatches(webhook.namespaceSelector, withNameLabel(namespace)) : true,
  });

  return {
    pod: podName, namespace: nsName, imagePullSecrets, injected, wouldInject: skipped || !optedIn ? [] : wouldInject, summary,
    namespaceFindings, podFindings, images: images.map(({ image, registry, repository, error }) => ({ image, ...(registry ? { registry } : {}), ...(repository ? { repository } : {}), ...(error ? { error } : {}) })),
    exports: exportFindings, otherExports: Math.max(0, otherExports - OTHER_EXPORTS_SHOWN), webhookFindings,
  };
}

function explainExport(
  ev: ExportEvidence, namespace: NamespaceInfo | undefined, nsName: string, images: readonly (ImageFinding & { ref: ImageReference })[], targets: boolean,
): ExportFinding {
  const exp = ev.export;
  const expNs = exp.metadata.namespace ?? "";
  const expName = exp.metadata.name ?? "";
  const spec = resolveSpec(exp.spec);
  const findings: Finding[] = [];
  const inOwnNamespace = expNs === nsName;
  const secretName = inOwnNamespace ? expName : copyName(expNs, expName);
  const result: ExportFinding = { export: `${expNs}/${expName}`, applies: false, findings, matches: [], secretName, copyState: "unknown" };

  findings.push({ ok: targets, text: targets
    ? `targets ${nsName} (${describeTargets(spec.toNamespaces, spec.namespaceSelector)})`
    : `does not target ${nsName} (it exports to ${describeTargets(spec.toNamespaces, spec.namespaceSelector)})` });
  if (!targets) return result;
  const accepted = namespace ? namespaceAcceptsExport(namespace, expNs, expName) : true;
  if (!accepted) findings.push({ ok: false, text: `the namespace's ${ANNOTATION_NAMESPACE_EXPORTS} annotation does not list ${expNs}/${expName}` });

  const ready = findCondition(exp.status, "Ready");
  const readyOk = isReady(exp);
  findings.push({ ok: readyOk, text: readyOk ? "Ready" : `not Ready${ready ? ` (${ready.reason}: ${ready.message})` : " (the controller has not reported on it yet)"}` });

  let keys: string[] = [];
  if (ev.source) {
    const joined = joinExport(exp, ev.source);
    if (joined.distributable) {
      keys = [...joined.distributable.registryKeys];
      const all = joined.credentials?.ok ? joined.credentials.credentials.map((c) => c.key) : [];
      const dropped = all.filter((k) => !keys.includes(k));
      if (dropped.length > 0) findings.push({ ok: null, text: `spec.registries leaves out ${dropped.join(", ")}` });
      for (const wanted of spec.registries) {
        if (!all.some((k) => registryKeysEqual(k, wanted))) findings.push({ ok: null, text: `spec.registries names ${wanted}, which the source does not hold` });
      }
    } else if (joined.credentials && !joined.credentials.ok) {
      findings.push({ ok: false, text: `the source secret is not usable: ${joined.credentials.message}` });
    }
  } else {
    findings.push({ ok: false, text: ev.sourceError ? `the source secret cannot be read: ${ev.sourceError}` : "the source secret does not exist" });
    keys = exp.status?.registries ?? [];
    if (keys.length > 0) findings.push({ ok: null, text: `matching against the registries in the export's status: ${keys.join(", ")}` });
  }

  for (const k of keys) {
    for (const image of images) result.matches.push({ key: k, image: image.image, matches: registryKeyMatchesImage(k, image.ref) });
  }
  const matched = result.matches.some((m) => m.matches);
  if (keys.length > 0 && images.length > 0) {
    findings.push({ ok: matched, text: matched
      ? `a registry key matches: ${result.matches.filter((m) => m.matches).map((m) => `${m.key} ← ${m.image}`).join(", ")}`
      : `no registry key (${keys.join(", ")}) matches an image of the pod` });
  }

  if (inOwnNamespace) {
    result.copyState = "source";
    findings.push({ ok: null, text: `the pod is in the export's own namespace: the source secret ${expName} itself is referenced, no copy is made` });
  } else if (ev.copyError) {
    findings.push({ ok: null, text: `the copy ${secretName} cannot be read: ${ev.copyError}` });
  } else if (!ev.copy) {
    result.copyState = "missing";
    findings.push({ ok: null, text: `no copy ${secretName} in ${nsName} yet${spec.provisioning === "Eager" ? "" : " (OnDemand: made when a matching pod is admitted)"}` });
  } else if (!isRegcredCopy(ev.copy)) {
    result.copyState = "conflict";
    findings.push({ ok: false, text: `a Secret named ${secretName} exists in ${nsName} and is not regcred's: regcred never overwrites it, so this export is skipped; rename or delete that Secret` });
  } else {
    const template = ev.source ? joinExport(exp, ev.source).distributable?.template : undefined;
    const current = template ? copyIsCurrent(ev.copy, template) : undefined;
    result.copyState = current === undefined ? "unknown" : current ? "current" : "stale";
    findings.push({ ok: current === false ? null : true, text: current === undefined
      ? `copy ${secretName} exists in ${nsName}`
      : current ? `copy ${secretName} in ${nsName} holds the source's current data` : `copy ${secretName} in ${nsName} holds older data; the controller updates it` });
  }
  result.applies = accepted && readyOk && matched && result.copyState !== "conflict" && ev.source !== undefined;
  return result;
}

interface PodImageEntry extends ImageFinding {
  ref?: ImageReference;
}

function podImages(pod: V1Pod): PodImageEntry[] {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const out: PodImageEntry[] = [];
  for (const c of containers) {
    if (!c.image) continue;
    try {
      const ref = parseImageReference(c.image);
      out.push({ image: c.image, registry: ref.registry, repository: ref.repository, ref });
    } catch (err) {
      out.push({ image: c.image, error: err instanceof Error ? err.message : "invalid" });
    }
  }
  return out;
}

export function podWebhook(config: V1MutatingWebhookConfiguration | undefined): V1MutatingWebhook | undefined {
  return config?.webhooks?.find((w) => w.name === POD_WEBHOOK_NAME);
}

/** The injection mode and exclusions, read back from the pod webhook's namespaceSelector. */
export function policyFrom(webhook: V1MutatingWebhook | undefined): { policy: InjectionPolicy; mode: InjectionMode | undefined } {
  const expressions = webhook?.namespaceSelector?.matchExpressions ?? [];
  const inject = expressions.find((e) => e.key === LABEL_INJECT);
  const mode: InjectionMode | undefined = inject?.operator === "In" ? "optIn" : inject?.operator === "NotIn" ? "allNamespaces" : undefined;
  const excluded = expressions.filter((e) => e.key === NAME_LABEL && e.operator === "NotIn").flatMap((e) => e.values ?? []);
  return { policy: { mode: mode ?? "optIn", excluded: new Set([...ALWAYS_EXCLUDED_NAMESPACES, ...excluded]) }, mode };
}

function optInText(ns: NamespaceInfo, policy: InjectionPolicy, optedIn: boolean): string {
  if (policy.excluded.has(ns.name)) return `${ns.name} is excluded from injection (system namespace, regcred's own, or configured)`;
  const annotation = ns.annotations[ANNOTATION_INJECT];
  const label = ns.labels[LABEL_INJECT];
  const said = annotation !== undefined ? `annotation ${ANNOTATION_INJECT}="${annotation}"` : label !== undefined ? `label ${LABEL_INJECT}="${label}"` : `no ${ANNOTATION_INJECT} annotation or label`;
  if (optedIn) return `${ns.name} opted in (${said}${policy.mode === "allNamespaces" && annotation === undefined && label === undefined ? ", injection mode allNamespaces" : ""})`;
  return `${ns.name} did not opt in (${said}); run: regcred optin ${ns.name}`;
}

function withNameLabel(ns: NamespaceInfo): Record<string, string> {
  return { [NAME_LABEL]: ns.name, ...ns.labels };
}

function webhookText(input: WhyInput, webhook: V1MutatingWebhook | undefined, mode: InjectionMode | undefined, ns: NamespaceInfo | undefined): Finding[] {
  const out: Finding[] = [];
  if (input.webhookError) {
    out.push({ ok: null, text: `the webhook configurations cannot be read: ${input.webhookError}` });
    return out;
  }
  if (!input.webhookConfig || !webhook) {
    out.push({ ok: false, text: `no MutatingWebhookConfiguration has the webhook ${POD_WEBHOOK_NAME}: regcred is not installed (or not registered), so no pod gets credentials` });
    return out;
  }
  const name = input.webhookConfig.metadata?.name ?? "";
  const cc = webhook.clientConfig;
  const target = cc.url ?? (cc.service ? `service ${cc.service.namespace}/${cc.service.name}:${cc.service.port ?? 443}${cc.service.path ?? ""}` : "nowhere");
  out.push({ ok: true, text: `MutatingWebhookConfiguration ${name} has ${POD_WEBHOOK_NAME} (injection mode ${mode ?? "unknown"}, failurePolicy ${webhook.failurePolicy ?? "Fail"}), calling ${target}` });
  if (ns && webhook.namespaceSelector) {
    const selected = labelSelectorMatches(webhook.namespaceSelector, withNameLabel(ns));
    out.push({ ok: selected, text: selected
      ? `its namespaceSelector selects ${ns.name}`
      : `its namespaceSelector (${selectorText(webhook.namespaceSelector)}) does not select ${ns.name}: the API server never calls regcred for its pods${ns.annotations[ANNOTATION_INJECT] === "true" && ns.labels[LABEL_INJECT] !== "true" ? ` (the namespace has the annotation but not yet the label ${LABEL_INJECT}; regcred's namespace webhook or controller sets it)` : ""}` });
  }
  const ca = input.caBundle;
  out.push({ ok: ca.result === "matches" ? true : ca.result === "unchecked" ? null : false, text: ca.detail });
  return out;
}

function selectorText(selector: V1LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) parts.push(`${e.key} ${e.operator}${e.values ? ` (${e.values.join(",")})` : ""}`);
  return parts.join(", ");
}

interface SummaryInput {
  podName: string;
  nsName: string;
  injected: string[];
  wouldInject: string[];
  skipped: boolean;
  optedIn: boolean;
  namespace: NamespaceInfo | undefined;
  webhook: V1MutatingWebhook | undefined;
  input: WhyInput;
  exportFindings: ExportFinding[];
  hasImages: boolean;
  selected: boolean;
}

function summarize(s: SummaryInput): string {
  const pod = `pod ${s.nsName}/${s.podName}`;
  const got = s.injected.length > 0 ? `${pod} got ${s.injected.join(", ")} from regcred at admission` : `${pod} got no credentials from regcred`;
  let why: string;
  if (s.skipped) why = `it is annotated ${ANNOTATION_SKIP}: "true"`;
  else if (s.namespace && !s.optedIn) why = `namespace ${s.nsName} did not opt in`;
  else if (!s.input.webhookError && !s.webhook) why = "regcred's pod webhook is not registered";
  else if (!s.selected) why = `the webhook's namespaceSelector does not select ${s.nsName}`;
  else if (!s.hasImages) why = "it has no image that can be parsed";
  else if (!s.exportFindings.some((e) => e.findings[0]?.ok === true)) why = `no export targets namespace ${s.nsName}`;
  else if (s.wouldInject.length === 0) why = "no export that targets the namespace is Ready with a registry key matching its images (see the exports above)";
  else why = "";
  if (s.injected.length > 0) {
    return why === "" ? got : `${got}; created now it would get nothing, because ${why}`;
  }
  if (why !== "") return `${got}, because ${why}`;
  return `${got}, although created now it would get ${s.wouldInject.join(", ")}: regcred acts only when a pod is created (was it created before the export was Ready, or while regcred was unreachable with failurePolicy Ignore?); delete the pod to have it recreated`;
}

function key(exp: PullSecretExport): string {
  return `${exp.metadata.namespace ?? ""}/${exp.metadata.name ?? ""}`;
}

/** The explanation as text for a terminal. */
export function renderExplanation(e: Explanation): string {
  const mark = (f: Finding): string => (f.ok === true ? "✓" : f.ok === false ? "✗" : "·");
  const lines: string[] = [`Pod ${e.namespace}/${e.pod}`];
  lines.push(`  imagePullSecrets: ${e.imagePullSecrets.length > 0 ? e.imagePullSecrets.join(", ") : "<none>"}`);
  lines.push(`  ${ANNOTATION_INJECTED}: ${e.injected.length > 0 ? e.injected.join(", ") : "<none>"}`);
  for (const f of e.podFindings) lines.push(`  ${mark(f)} ${f.text}`);
  lines.push("", "Namespace");
  for (const f of e.namespaceFindings) lines.push(`  ${mark(f)} ${f.text}`);
  lines.push("", "Images");
  for (const i of e.images) {
    lines.push(i.error ? `  ${i.image}: ${i.error}` : `  ${i.image}  (registry ${i.registry ?? ""}, repository ${i.repository ?? ""})`);
  }
  if (e.images.length === 0) lines.push("  <none>");
  lines.push("", "Exports");
  if (e.exports.length === 0) lines.push("  <none visible>");
  for (const x of e.exports) {
    lines.push(`  ${x.export}${x.applies ? `  → ${x.secretName}` : ""}`);
    for (const f of x.findings) lines.push(`    ${mark(f)} ${f.text}`);
  }
  if (e.otherExports > 0) lines.push(`  … and ${e.otherExports} more export(s) that do not target ${e.namespace}`);
  lines.push("", "Webhook");
  for (const f of e.webhookFindings) lines.push(`  ${mark(f)} ${f.text}`);
  lines.push("", e.summary.charAt(0).toUpperCase() + e.summary.slice(1));
  return `${lines.map(safeText).join("\n")}\n`;
}
