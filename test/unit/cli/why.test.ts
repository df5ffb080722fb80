import { describe, expect, it } from "vitest";
import type { V1MutatingWebhookConfiguration, V1Secret } from "@kubernetes/client-node";
import type { Condition, PullSecretExport } from "../../../src/api/types.js";
import { joinExport } from "../../../src/cluster/exportIndex.js";
import { copySecret } from "../../../src/copies/desired.js";
import { copyName } from "../../../src/copies/naming.js";
import { explainPod, policyFrom, renderExplanation, type ExportEvidence, type WhyInput } from "../../../src/cli/why.js";
import { dockerConfigJson, pod, sourceSecret } from "../../harness/fixtures.js";

const SRC = "registry-creds";
const ready: Condition[] = [{ type: "Ready", status: "True", reason: "Distributing", message: "offered", lastTransitionTime: "x" }];

function exp(name: string, spec: PullSecretExport["spec"], conditions = ready, namespace = SRC): PullSecretExport {
  return { apiVersion: "regcred.dev/v1alpha1", kind: "PullSecretExport", metadata: { name, namespace }, spec, status: { conditions } };
}

function source(name: string, registry: string, namespace = SRC): V1Secret {
  const s = sourceSecret(namespace, name, dockerConfigJson({ [registry]: { username: "u", password: "p" } }));
  s.metadata = { ...s.metadata, resourceVersion: "7" };
  return s;
}

function currentCopy(e: PullSecretExport, src: V1Secret, ns: string): V1Secret {
  const template = joinExport(e, src).distributable?.template;
  if (!template) throw new Error("no template");
  return copySecret(template, ns);
}

function webhook(mode: "optIn" | "allNamespaces", excluded: string[] = ["kube-system", "regcred-system"]): V1MutatingWebhookConfiguration {
  return {
    metadata: { name: "regcred" },
    webhooks: [{
      name: "pods.regcred.dev", admissionReviewVersions: ["v1"], sideEffects: "NoneOnDryRun", failurePolicy: "Fail",
      clientConfig: { url: "https://127.0.0.1:8443/mutate/pods", caBundle: "eA==" },
      namespaceSelector: { matchExpressions: [
        mode === "optIn" ? { key: "regcred.dev/inject", operator: "In", values: ["true"] } : { key: "regcred.dev/inject", operator: "NotIn", values: ["false"] },
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: excluded },
      ] },
    }],
  };
}

function input(over: Partial<WhyInput> & { exports: ExportEvidence[] }): WhyInput {
  return {
    pod: { ...pod("app", ["harbor.example.com/team-a/app:1.0"]), metadata: { name: "app", namespace: "team-a" } },
    namespace: { name: "team-a", labels: { "regcred.dev/inject": "true" }, annotations: { "regcred.dev/inject": "true" } },
    webhookConfig: webhook("optIn"),
    caBundle: { result: "matches", detail: "caBundle matches the certificate served at https://127.0.0.1:8443" },
    ...over,
  };
}

describe("explainPod", () => {
  const harbor = exp("harbor-ro", { toNamespaces: ["*"] });
  const harborSrc = source("harbor-ro", "harbor.example.com");
  const copy = copyName(SRC, "harbor-ro");

  it("a pod that got its secret: every check passes", () => {
    const i = input({ exports: [{ export: harbor, source: harborSrc, copy: currentCopy(harbor, harborSrc, "team-a") }] });
    i.pod.metadata = { ...i.pod.metadata, annotations: { "regcred.dev/injected": copy } };
    i.pod.spec = { ...i.pod.spec, containers: i.pod.spec?.containers ?? [], imagePullSecrets: [{ name: copy }] };
    const e = explainPod(i);
    expect(e.injected).toEqual([copy]);
    expect(e.wouldInject).toEqual([copy]);
    expect(e.summary).toBe(`pod team-a/app got ${copy} from regcred at admission`);
    expect(e.exports[0]?.copyState).toBe("current");
    expect(e.exports[0]?.matches).toEqual([{ key: "harbor.example.com", image: "harbor.example.com/team-a/app:1.0", matches: true }]);
    const text = renderExplanation(e);
    expect(text).toContain("✓ team-a opted in (annotation regcred.dev/inject=\"true\")");
    expect(text).toContain(`registry-creds/harbor-ro  → ${copy}`);
    expect(text).toContain("✓ caBundle matches");
  });

  it("a namespace that did not opt in", () => {
    const e = explainPod(input({ namespace: { name: "team-a", labels: {}, annotations: {} }, exports: [{ export: harbor, source: harborSrc, copy: undefined }] }));
    expect(e.summary).toBe("pod team-a/app got no credentials from regcred, because namespace team-a did not opt in");
    expect(e.namespaceFindings[0]).toEqual({ ok: false, text: "team-a did not opt in (no regcred.dev/inject annotation or label); run: regcred optin team-a" });
    expect(e.wouldInject).toEqual([]);
  });

  it("allNamespaces mode, read back from the webhook, counts a namespace that said nothing", () => {
    const e = explainPod(input({ webhookConfig: webhook("allNamespaces"), namespace: { name: "team-a", labels: {}, annotations: {} }, exports: [{ export: harbor, source: harborSrc, copy: undefined }] }));
    expect(e.namespaceFindings[0]?.ok).toBe(true);
    expect(e.wouldInject).toEqual([copy]);
    expect(e.summary).toContain("although created now it would get");
  });

  it("an excluded namespace", () => {
    const policy = policyFrom(webhook("optIn", ["team-a"]).webhooks?.[0]);
    expect(policy.mode).toBe("optIn");
    expect(policy.policy.excluded.has("team-a")).toBe(true);
    expect(policy.policy.excluded.has("kube-public")).toBe(true);
    const e = explainPod(input({ webhookConfig: webhook("optIn", ["team-a"]), exports: [] }));
    expect(e.namespaceFindings[0]?.text).toContain("is excluded from injection");
  });

  it("an image no registry key matches, with each key against each image", () => {
    const i = input({ exports: [{ export: harbor, source: harborSrc, copy: undefined }] });
    i.pod.spec = { containers: [{ name: "a", image: "quay.io/x/y:1" }], initContainers: [{ name: "i", image: "nginx" }] };
    const e = explainPod(i);
    expect(e.exports[0]?.matches).toEqual([
      { key: "harbor.example.com", image: "nginx", matches: false },
      { key: "harbor.example.com", image: "quay.io/x/y:1", matches: false },
    ]);
    expect(e.images).toContainEqual({ image: "nginx", registry: "docker.io", repository: "library/nginx" });
    expect(e.summary).toContain("no export that targets the namespace is Ready with a registry key matching its images");
  });

  it("an export that does not target the namespace, one not Ready, one with a conflicting Secret", () => {
    const narrow = exp("narrow", { toNamespaces: ["team-b"] });
    const notReady = exp("pending", { toNamespaces: ["*"] }, [{ type: "Ready", status: "False", reason: "SourceNotFound", message: "no source", lastTransitionTime: "x" }]);
    const conflicted = exp("mine", { toNamespaces: ["team-a"] });
    const mineSrc = source("mine", "harbor.example.com");
    const e = explainPod(input({ exports: [
      { export: narrow, source: undefined, copy: undefined },
      { export: notReady, source: undefined, copy: undefined },
      { export: conflicted, source: mineSrc, copy: { metadata: { name: copyName(SRC, "mine"), namespace: "team-a" }, type: "Opaque" } },
    ] }));
    const byName = new Map(e.exports.map((x) => [x.export, x]));
    expect(byName.get(`${SRC}/narrow`)?.findings).toEqual([{ ok: false, text: "does not target team-a (it exports to team-b)" }]);
    expect(byName.get(`${SRC}/pending`)?.findings).toContainEqual({ ok: false, text: "not Ready (SourceNotFound: no source)" });
    expect(byName.get(`${SRC}/pending`)?.findings).toContainEqual({ ok: false, text: "the source secret does not exist" });
    expect(byName.get(`${SRC}/mine`)?.copyState).toBe("conflict");
    expect(byName.get(`${SRC}/mine`)?.applies).toBe(false);
    expect(e.wouldInject).toEqual([]);
  });

  it("the namespace's regcred.dev/exports limit", () => {
    const e = explainPod(input({
      namespace: { name: "team-a", labels: { "regcred.dev/inject": "true" }, annotations: { "regcred.dev/inject": "true", "regcred.dev/exports": "other/x" } },
      exports: [{ export: harbor, source: harborSrc, copy: undefined }],
    }));
    expect(e.exports[0]?.findings).toContainEqual({ ok: false, text: "the namespace's regcred.dev/exports annotation does not list registry-creds/harbor-ro" });
    expect(e.wouldInject).toEqual([]);
  });

  it("a pod in the export's own namespace references the source itself", () => {
    const i = input({ namespace: { name: SRC, labels: { "regcred.dev/inject": "true" }, annotations: {} }, exports: [{ export: harbor, source: harborSrc, copy: undefined }] });
    i.pod.metadata = { name: "app", namespace: SRC };
    const e = explainPod(i);
    expect(e.exports[0]).toMatchObject({ copyState: "source", secretName: "harbor-ro", applies: true });
  });

  it("a stale copy, spec.registries leaving keys out", () => {
    const multi = exp("multi", { toNamespaces: ["*"], registries: ["harbor.example.com"] });
    const src = sourceSecret(SRC, "multi", dockerConfigJson({ "harbor.example.com": { username: "u", password: "p" }, "quay.io": { username: "u", password: "p" } }));
    const stale = currentCopy(multi, src, "team-a");
    stale.metadata = { ...stale.metadata, annotations: { ...stale.metadata?.annotations, "regcred.dev/data-hash": "older" } };
    const e = explainPod(input({ exports: [{ export: multi, source: src, copy: stale }] }));
    expect(e.exports[0]?.findings).toContainEqual({ ok: null, text: "spec.registries leaves out quay.io" });
    expect(e.exports[0]?.copyState).toBe("stale");
    expect(e.exports[0]?.applies).toBe(true);
  });

  it("no webhook registered, or one whose selector misses the namespace, or a caBundle that does not match", () => {
    const none = explainPod(input({ webhookConfig: undefined, caBundle: { result: "unchecked", detail: "not compared" }, exports: [{ export: harbor, source: harborSrc, copy: undefined }] }));
    expect(none.webhookFindings[0]?.text).toContain("no MutatingWebhookConfiguration has the webhook pods.regcred.dev");
    expect(none.summary).toContain("because regcred's pod webhook is not registered");

    const unlabelled = explainPod(input({ namespace: { name: "team-a", labels: {}, annotations: { "regcred.dev/inject": "true" } }, exports: [{ export: harbor, source: harborSrc, copy: undefined }] }));
    expect(unlabelled.webhookFindings).toContainEqual(expect.objectContaining({ ok: false, text: expect.stringContaining("does not select team-a") as string }));
    expect(unlabelled.summary).toContain("the webhook's namespaceSelector does not select team-a");

    const mismatch = explainPod(input({ caBundle: { result: "mismatch", detail: "caBundle does not match" }, exports: [] }));
    expect(mismatch.webhookFindings.at(-1)).toEqual({ ok: false, text: "caBundle does not match" });
  });

  it("a skipped pod", () => {
    const i = input({ exports: [{ export: harbor, source: harborSrc, copy: undefined }] });
    i.pod.metadata = { ...i.pod.metadata, annotations: { "regcred.dev/skip": "true" } };
    const e = explainPod(i);
    expect(e.summary).toBe("pod team-a/app got no credentials from regcred, because it is annotated regcred.dev/skip: \"true\"");
    expect(e.wouldInject).toEqual([]);
  });

  it("escapes control characters in what it prints", () => {
    const e = explainPod(input({ namespace: { name: "team-a", labels: {}, annotations: { "regcred.dev/inject": "true", "regcred.dev/exports": "x\u001b[2J" } }, exports: [] }));
    expect(renderExplanation(e)).not.toContain("\u001b");
  });
});
