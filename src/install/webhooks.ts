import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  loadYaml, type AdmissionregistrationV1Api, type AdmissionregistrationV1WebhookClientConfig, type V1LabelSelector,
  type V1MutatingWebhookConfiguration, type V1RuleWithOperations, type V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import type { InjectionMode } from "../config/settings.js";
import { statusCodeOf } from "../observability/errors.js";

interface WebhookDefinition {
  name: string;
  path: string;
  rules: V1RuleWithOperations[];
  namespaceSelector?: V1LabelSelector | Record<InjectionMode, V1LabelSelector>;
  objectSelector?: V1LabelSelector;
  sideEffects: string;
  failurePolicy: string;
  reinvocationPolicy?: string;
  timeoutSeconds: number;
  matchPolicy: string;
}

export interface WebhookDefinitions {
  mutating: WebhookDefinition[];
  validating: WebhookDefinition[];
}

const DEFINITIONS_FILE = fileURLToPath(new URL("../../charts/regcred/files/webhooks.yaml", import.meta.url));

/** The one definition of regcred's webhooks, shared with the chart. */
export function loadWebhookDefinitions(file = DEFINITIONS_FILE): WebhookDefinitions {
  return loadYaml(readFileSync(file, "utf8"));
}

export interface WebhookInstall {
  /** metadata.name of both configurations. */
  name: string;
  /** Where the API server reaches regcred: a URL (out of cluster) or a Service. */
  clientConfig: (path: string) => AdmissionregistrationV1WebhookClientConfig;
  injectionMode: InjectionMode;
  /** Namespaces the pod webhook is never called for. */
  excludedNamespaces: readonly string[];
  labels?: Record<string, string>;
}

function namespaceSelector(def: WebhookDefinition, install: WebhookInstall): V1LabelSelector | undefined {
  const sel = def.namespaceSelector;
  if (!sel) return undefined;
  const base: V1LabelSelector = "optIn" in sel || "allNamespaces" in sel
    ? (sel as Record<InjectionMode, V1LabelSelector>)[install.injectionMode]
    : sel;
  return {
    ...base,
    matchExpressions: [
      ...(base.matchExpressions ?? []),
      { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...install.excludedNamespaces] },
    ],
  };
}

function common(def: WebhookDefinition, install: WebhookInstall) {
  const selector = namespaceSelector(def, install);
  return {
    name: def.name,
    admissionReviewVersions: ["v1"],
    clientConfig: install.clientConfig(def.path),
    rules: def.rules,
    sideEffects: def.sideEffects,
    failurePolicy: def.failurePolicy,
    timeoutSeconds: def.timeoutSeconds,
    matchPolicy: def.matchPolicy,
    ...(selector ? { namespaceSelector: selector } : {}),
    ...(def.objectSelector ? { objectSelector: def.objectSelector } : {}),
  };
}

export function webhookConfigurations(defs: WebhookDefinitions, install: WebhookInstall): {
  mutating: V1MutatingWebhookConfiguration; validating: V1ValidatingWebhookConfiguration;
} {
  const metadata = { name: install.name, ...(install.labels ? { labels: install.labels } : {}) };
  return {
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata,
      webhooks: defs.mutating.map((def) => ({ ...common(def, install), reinvocationPolicy: def.reinvocationPolicy ?? "Never" })),
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata,
      webhooks: defs.validating.map((def) => common(def, install)),
    },
  };
}

/** Creates both configurations, or replaces them when they exist. */
export async function applyWebhookConfigurations(api: AdmissionregistrationV1Api, configs: ReturnType<typeof webhookConfigurations>): Promise<void> {
  const name = configs.mutating.metadata?.name ?? "";
  try {
    const existing = await api.readMutatingWebhookConfiguration({ name });
    await api.replaceMutatingWebhookConfiguration({ name, body: { ...configs.mutating, metadata: { ...configs.mutating.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
  } catch (err) {
    if (statusCodeOf(err) !== 404) throw err;
    await api.createMutatingWebhookConfiguration({ body: configs.mutating });
  }
  try {
    const existing = await api.readValidatingWebhookConfiguration({ name });
    await api.replaceValidatingWebhookConfiguration({ name, body: { ...configs.validating, metadata: { ...configs.validating.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
  } catch (err) {
    if (statusCodeOf(err) !== 404) throw err;
    await api.createValidatingWebhookConfiguration({ body: configs.validating });
  }
}
