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

/** Creates the configuration, or replaces it when it exists. */
async function upsert<T extends { metadata?: { name?: string; resourceVersion?: string } }>(
  body: T, read: (name: string) => Promise<T>, create: (body: T) => Promise<unknown>, replace: (name: string, body: T) => Promise<unknown>,
): Promise<void> {
  const name = body.metadata?.name ?? "";
  try {
    const existing = await read(name);
    await replace(name, { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } });
  } catch (err) {
    if (statusCodeOf(err) !== 404) throw err;
    await create(body);
  }
}

/** Creates both configurations, or replaces them when they exist. */
export async function applyWebhookConfigurations(api: AdmissionregistrationV1Api, configs: ReturnType<typeof webhookConfigurations>): Promise<void> {
  await upsert(configs.mutating, (name) => api.readMutatingWebhookConfiguration({ name }),
    (body) => api.createMutatingWebhookConfiguration({ body }), (name, body) => api.replaceMutatingWebhookConfiguration({ name, body }));
  await upsert(configs.validating, (name) => api.readValidatingWebhookConfiguration({ name }),
    (body) => api.createValidatingWebhookConfiguration({ body }), (name, body) => api.replaceValidatingWebhookConfiguration({ name, body }));
}
