import { describe, it, expect } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { injectionPolicy } from "../../src/admission/eligibility.js";
import type { InjectionPolicy, NamespaceInfo } from "../../src/admission/eligibility.js";
import { encodePatch } from "../../src/admission/patch.js";
import { decidePod, exportKey } from "../../src/admission/pods.js";
import type { CopyState, DistributableExport, PodDecision } from "../../src/admission/pods.js";
import { copyName } from "../../src/copies/naming.js";
import { applied, distributable, namespace, optedIn, pod } from "./fixtures.js";

const OPT_IN = injectionPolicy("optIn", "regcred-system", ["legacy-apps"]);
const ALL = injectionPolicy("allNamespaces", "regcred-system", ["legacy-apps"]);

const HARBOR_IMAGE = "harbor.example.com/team-a/app:1.2";
const HARBOR = distributable("registry-creds", "harbor-ro", { toNamespaces: ["*"] }, ["harbor.example.com"]);
const HARBOR_COPY = copyName("registry-creds", "harbor-ro");
const TEAM_A = optedIn("team-a");

interface Case {
  pod: V1Pod;
  namespace?: NamespaceInfo;
  policy?: InjectionPolicy;
  exports?: readonly DistributableExport[];
  states?: Record<string, CopyState>;
  dryRun?: boolean;
}

function decide(c: Case): PodDecision {
  return decidePod({
    pod: c.pod,
    namespace: c.namespace ?? TEAM_A,
    policy: c.policy ?? OPT_IN,
    exports: c.exports ?? [HARBOR],
    copyStates: new Map(Object.entries(c.states ?? {})),
    dryRun: c.dryRun ?? false,
  });
}

/** The pod after the decision's patch, as the API server would store it. */
function patched(c: Case): { pod: V1Pod; decision: PodDecision } {
  const decision = decide(c);
  return { pod: applied(c.pod, decision.patch), decision };
}

function pullSecrets(p: V1Pod): string[] | undefined {
  return p.spec?.imagePullSecrets?.map((r) => r.name ?? "");
}

function injectedAnnotation(p: V1Pod): string | undefined {
  return p.metadata?.annotations?.["regcred.dev/injected"];
}

describe("decidePod: spec.imagePullSecrets", () => {
  it("adds the list when the pod has none", () => {
    const { pod: after, decision } = patched({ pod: pod({ containers: [HARBOR_IMAGE] }) });
    expect(pullSecrets(after)).toEqual([HARBOR_COPY]);
    expect(decision.injected).toEqual([HARBOR_COPY]);
    expect(after.spec?.containers).toEqual([{ name: "c0", image: HARBOR_IMAGE }]);
  });

  it("appends to an empty list", () => {
    const { pod: after } = patched({ pod: pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [] }) });
    expect(pullSecrets(after)).toEqual([HARBOR_COPY]);
  });

  it("keeps the user's entries, in their order, and appends after them", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [{ name: "zeta-own" }, { name: "alpha-own" }] });
    const { pod: after } = patched({ pod: before });
    expect(pullSecrets(after)).toEqual(["zeta-own", "alpha-own", HARBOR_COPY]);
  });

  it("does not duplicate a copy the pod already lists, and then has no patch at all", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [{ name: "mine" }, { name: HARBOR_COPY }] });
    const decision = decide({ pod: before, states: { [exportKey(HARBOR)]: "current" } });
    expect(decision.patch).toEqual([]);
    expect(decision.injected).toEqual([]);
    expect(applied(before, decision.patch)).toEqual(before);
  });

  it("still makes sure a listed copy exists when it is missing", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [{ name: HARBOR_COPY }] });
    const decision = decide({ pod: before, states: { [exportKey(HARBOR)]: "missing" } });
    expect(decision.patch).toEqual([]);
    expect(decision.ensure).toEqual([HARBOR]);
  });

  it("encodes the patch as base64 of its JSON for the AdmissionResponse", () => {
    const decision = decide({ pod: pod({ containers: [HARBOR_IMAGE] }) });
    expect(JSON.parse(Buffer.from(encodePatch(decision.patch), "base64").toString("utf8"))).toEqual(decision.patch);
  });
});

describe("decidePod: the regcred.dev/injected annotation", () => {
  it("creates metadata.annotations when the pod has none", () => {
    const before = pod({ containers: [HARBOR_IMAGE] });
    expect(before.metadata?.annotations).toBeUndefined();
    const { pod: after } = patched({ pod: before });
    expect(after.metadata?.annotations).toEqual({ "regcred.dev/injected": HARBOR_COPY });
  });

  it("adds to existing annotations with the / of the key escaped as ~1", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { annotations: { "team.example.com/owner": "a" } });
    const { pod: after, decision } = patched({ pod: before });
    expect(decision.patch.map((op) => op.path)).toContain("/metadata/annotations/regcred.dev~1injected");
    expect(after.metadata?.annotations).toEqual({ "team.example.com/owner": "a", "regcred.dev/injected": HARBOR_COPY });
  });

  it("merges with a value the pod already carries, without repeating names", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { annotations: { "regcred.dev/injected": `earlier,${HARBOR_COPY}` } });
    const { pod: after } = patched({ pod: before });
    expect(injectedAnnotation(after)).toBe(`earlier,${HARBOR_COPY}`);
  });

  it("lists every secret added, comma-separated", () => {
    const quay = distributable("registry-creds", "quay-ro", { toNamespaces: ["*"] }, ["quay.io"]);
    const { pod: after } = patched({ pod: pod({ containers: [HARBOR_IMAGE, "quay.io/org/tool:2"] }), exports: [quay, HARBOR] });
    expect(injectedAnnotation(after)).toBe(`${HARBOR_COPY},${copyName("registry-creds", "quay-ro")}`);
  });
});

describe("decidePod: which images count", () => {
  it("uses the images of initContainers", () => {
    const { pod: after } = patched({ pod: pod({ containers: ["busybox"], initContainers: [HARBOR_IMAGE] }) });
    expect(pullSecrets(after)).toEqual([HARBOR_COPY]);
  });

  it("does not give up on the pod because one image cannot be parsed", () => {
    const { pod: after } = patched({ pod: pod({ containers: ["Not A Valid::Image", HARBOR_IMAGE] }) });
    expect(pullSecrets(after)).toEqual([HARBOR_COPY]);
  });

  it("matches Docker Hub images without a registry host against a docker.io key", () => {
    const hub = distributable("registry-creds", "hub-ro", { toNamespaces: ["*"] }, ["https://index.docker.io/v1/"]);
    const { pod: after } = patched({ pod: pod({ containers: ["myorg/private:1"] }), exports: [hub] });
    expect(pullSecrets(after)).toEqual([copyName("registry-creds", "hub-ro")]);
  });

  it("leaves a pod alone when no export matches any image: allowed, no patch, no copy", () => {
    const decision = decide({ pod: pod({ containers: ["quay.io/org/tool:1", "nginx"] }) });
    expect(decision).toEqual({ patch: [], warnings: [], ensure: [], conflicts: [], injected: [] });
  });

  it("leaves a pod annotated regcred.dev/skip: \"true\" alone", () => {
    const decision = decide({ pod: pod({ containers: [HARBOR_IMAGE] }, { annotations: { "regcred.dev/skip": "true" } }) });
    expect(decision).toEqual({ patch: [], warnings: [], ensure: [], conflicts: [], injected: [] });
  });

  it("does not skip for another value of regcred.dev/skip", () => {
    const { pod: after } = patched({ pod: pod({ containers: [HARBOR_IMAGE] }, { annotations: { "regcred.dev/skip": "false" } }) });
    expect(pullSecrets(after)).toEqual([HARBOR_COPY]);
  });
});

describe("decidePod: several exports", () => {
  const second = distributable("a-creds", "zeta", { toNamespaces: ["*"] }, ["harbor.example.com"]);
  const third = distributable("registry-creds", "alpha", { toNamespaces: ["*"] }, ["*.example.com"]);

  it("injects every export that matches one image, sorted by namespace/name whatever the input order", () => {
    const expected = [copyName("a-creds", "zeta"), copyName("registry-creds", "alpha"), HARBOR_COPY];
    for (const order of [[HARBOR, second, third], [third, HARBOR, second], [second, third, HARBOR]]) {
      const { pod: after, decision } = patched({ pod: pod({ containers: [HARBOR_IMAGE] }), exports: order });
      expect(pullSecrets(after)).toEqual(expected);
      expect(injectedAnnotation(after)).toBe(expected.join(","));
      expect(decision.warnings).toHaveLength(3);
      expect(decision.warnings.map((w) => /export (\S+)\)/.exec(w)?.[1])).toEqual(["a-creds/zeta", "registry-creds/alpha", "registry-creds/harbor-ro"]);
    }
  });

  it("warns once per export, naming the secret, the export and the registry", () => {
    const decision = decide({ pod: pod({ containers: [HARBOR_IMAGE] }), states: { [exportKey(HARBOR)]: "current" } });
    expect(decision.warnings).toEqual([`regcred: added imagePullSecret ${HARBOR_COPY} (export registry-creds/harbor-ro) for harbor.example.com`]);
  });
});

describe("decidePod: which exports target the namespace", () => {
  const image = { containers: [HARBOR_IMAGE] };

  function injectedInto(ns: NamespaceInfo, exp: DistributableExport, policy: InjectionPolicy = OPT_IN): string[] {
    return decide({ pod: pod(image), namespace: ns, exports: [exp], policy }).injected;
  }

  it("toNamespaces by name", () => {
    const named = distributable("registry-creds", "named", { toNamespaces: ["team-a", "team-c"] }, ["harbor.example.com"]);
    expect(injectedInto(optedIn("team-a"), named)).toEqual([named.template.name]);
    expect(injectedInto(optedIn("team-c"), named)).toEqual([named.template.name]);
    expect(injectedInto(optedIn("team-b"), named)).toEqual([]);
  });

  it("toNamespaces \"*\"", () => {
    expect(injectedInto(optedIn("anything-at-all"), HARBOR)).toEqual([HARBOR_COPY]);
  });

  it("an export with no toNamespaces and no selector targets nothing", () => {
    const none = distributable("registry-creds", "none", {}, ["harbor.example.com"]);
    expect(injectedInto(optedIn("team-a"), none)).toEqual([]);
  });

  it("namespaceSelector matchLabels (toNamespaces defaults to \"*\")", () => {
    const prod = distributable("registry-creds", "prod", { namespaceSelector: { matchLabels: { env: "prod" } } }, ["harbor.example.com"]);
    expect(injectedInto(optedIn("team-a", { env: "prod" }), prod)).toEqual([prod.template.name]);
    expect(injectedInto(optedIn("team-a", { env: "dev" }), prod)).toEqual([]);
    expect(injectedInto(optedIn("team-a"), prod)).toEqual([]);
  });

  it("namespaceSelector matchExpressions", () => {
    const sel = distributable("registry-creds", "tiers", {
      namespaceSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }, { key: "legacy", operator: "DoesNotExist" }] },
    }, ["harbor.example.com"]);
    expect(injectedInto(optedIn("team-a", { tier: "api" }), sel)).toEqual([sel.template.name]);
    expect(injectedInto(optedIn("team-a", { tier: "batch" }), sel)).toEqual([]);
    expect(injectedInto(optedIn("team-a", { tier: "web", legacy: "yes" }), sel)).toEqual([]);
  });

  it("namespaceSelector AND toNamespaces: both must hold", () => {
    const both = distributable("registry-creds", "both", { toNamespaces: ["team-a"], namespaceSelector: { matchLabels: { env: "prod" } } }, ["harbor.example.com"]);
    expect(injectedInto(optedIn("team-a", { env: "prod" }), both)).toEqual([both.template.name]);
    expect(injectedInto(optedIn("team-b", { env: "prod" }), both)).toEqual([]);
    expect(injectedInto(optedIn("team-a", { env: "dev" }), both)).toEqual([]);
  });

  it("the namespace's regcred.dev/exports annotation limits the exports it takes", () => {
    const other = distributable("registry-creds", "other", { toNamespaces: ["*"] }, ["harbor.example.com"]);
    const limited = optedIn("team-a", {}, { "regcred.dev/exports": " registry-creds/other , elsewhere/x" });
    const decision = decide({ pod: pod(image), namespace: limited, exports: [HARBOR, other] });
    expect(decision.injected).toEqual([other.template.name]);
  });

  it("a namespace that did not opt in gets nothing in optIn mode", () => {
    expect(injectedInto(namespace("team-a"), HARBOR)).toEqual([]);
  });

  it("the label regcred.dev/inject set directly opts a namespace in", () => {
    expect(injectedInto(namespace("team-a", {}, { "regcred.dev/inject": "true" }), HARBOR)).toEqual([HARBOR_COPY]);
  });

  it("regcred.dev/inject: \"false\" opts out, also in allNamespaces mode", () => {
    expect(injectedInto(namespace("team-a", { "regcred.dev/inject": "false" }), HARBOR, ALL)).toEqual([]);
    expect(injectedInto(namespace("team-a", {}, { "regcred.dev/inject": "false" }), HARBOR, ALL)).toEqual([]);
  });

  it("allNamespaces mode injects into namespaces that say nothing", () => {
    expect(injectedInto(namespace("team-a"), HARBOR, ALL)).toEqual([HARBOR_COPY]);
  });

  it.each(["kube-system", "kube-public", "kube-node-lease", "regcred-system", "legacy-apps"])(
    "never injects into %s, even when it opted in or in allNamespaces mode",
    (name) => {
      expect(injectedInto(optedIn(name), HARBOR)).toEqual([]);
      expect(injectedInto(namespace(name), HARBOR, ALL)).toEqual([]);
    },
  );
});

describe("decidePod: the export's own namespace", () => {
  const home = optedIn("registry-creds");

  it("references the source secret by its own name and asks for no copy", () => {
    const before = pod({ containers: [HARBOR_IMAGE] });
    const { pod: after, decision } = patched({ pod: before, namespace: home, states: { [exportKey(HARBOR)]: "missing" } });
    expect(pullSecrets(after)).toEqual(["harbor-ro"]);
    expect(injectedAnnotation(after)).toBe("harbor-ro");
    expect(decision.ensure).toEqual([]);
    expect(decision.conflicts).toEqual([]);
  });

  it("ignores a copy state there (the source itself is never a conflict)", () => {
    const decision = decide({ pod: pod({ containers: [HARBOR_IMAGE] }), namespace: home, states: { [exportKey(HARBOR)]: "conflict" } });
    expect(decision.injected).toEqual(["harbor-ro"]);
    expect(decision.conflicts).toEqual([]);
  });

  it("does not list the source twice when the pod already references it", () => {
    const before = pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [{ name: "harbor-ro" }] });
    expect(decide({ pod: before, namespace: home }).patch).toEqual([]);
  });
});

describe("decidePod: copy states", () => {
  const key = exportKey(HARBOR);
  const before = pod({ containers: [HARBOR_IMAGE] });

  it("current: injected, nothing to write", () => {
    const decision = decide({ pod: before, states: { [key]: "current" } });
    expect(decision.injected).toEqual([HARBOR_COPY]);
    expect(decision.ensure).toEqual([]);
    expect(decision.conflicts).toEqual([]);
  });

  it.each(["stale", "missing"] as const)("%s: injected, and the copy is to be written first", (state) => {
    const decision = decide({ pod: before, states: { [key]: state } });
    expect(decision.injected).toEqual([HARBOR_COPY]);
    expect(decision.ensure).toEqual([HARBOR]);
  });

  it("absent from the map counts as missing", () => {
    expect(decide({ pod: before }).ensure).toEqual([HARBOR]);
  });

  it("conflict: skipped, listed as a conflict, with a warning that says what to do", () => {
    const { pod: after, decision } = patched({ pod: before, states: { [key]: "conflict" } });
    expect(decision.patch).toEqual([]);
    expect(after).toEqual(before);
    expect(decision.conflicts).toEqual([HARBOR]);
    expect(decision.ensure).toEqual([]);
    expect(decision.warnings).toHaveLength(1);
    expect(decision.warnings[0]).toMatch(/^regcred: /);
    expect(decision.warnings[0]).toContain(HARBOR_COPY);
    expect(decision.warnings[0]).toContain("registry-creds/harbor-ro");
    expect(decision.warnings[0]).toMatch(/rename or delete/);
  });

  it("conflict on one export does not stop another", () => {
    const quay = distributable("registry-creds", "quay-ro", { toNamespaces: ["*"] }, ["quay.io"]);
    const { pod: after, decision } = patched({
      pod: pod({ containers: [HARBOR_IMAGE, "quay.io/org/tool"] }), exports: [HARBOR, quay],
      states: { [key]: "conflict", [exportKey(quay)]: "current" },
    });
    expect(pullSecrets(after)).toEqual([quay.template.name]);
    expect(decision.conflicts).toEqual([HARBOR]);
    expect(decision.warnings).toHaveLength(2);
  });

  it("failed: still injected, with a warning that the controller will create the copy", () => {
    const decision = decide({ pod: before, states: { [key]: "failed" } });
    expect(decision.injected).toEqual([HARBOR_COPY]);
    expect(decision.ensure).toEqual([]);
    expect(decision.warnings).toHaveLength(1);
    expect(decision.warnings[0]).toMatch(/^regcred: .*controller will create it/);
  });

  it("every warning starts with regcred:", () => {
    for (const state of ["current", "stale", "missing", "conflict", "failed"] as const) {
      for (const dryRun of [false, true]) {
        const decision = decide({ pod: before, states: { [key]: state }, dryRun });
        expect(decision.warnings.length).toBeGreaterThan(0);
        for (const w of decision.warnings) expect(w).toMatch(/^regcred: /);
      }
    }
  });
});

describe("decidePod: dry run", () => {
  const before = pod({ containers: [HARBOR_IMAGE] }, { imagePullSecrets: [{ name: "mine" }] });

  it.each(["missing", "stale", "current"] as const)("%s copy: the same patch, nothing to write", (state) => {
    const wet = decide({ pod: before, states: { [exportKey(HARBOR)]: state } });
    const dry = decide({ pod: before, states: { [exportKey(HARBOR)]: state }, dryRun: true });
    expect(dry.patch).toEqual(wet.patch);
    expect(dry.patch.length).toBeGreaterThan(0);
    expect(dry.injected).toEqual(wet.injected);
    expect(dry.ensure).toEqual([]);
  });

  it("says the copy was not written", () => {
    const dry = decide({ pod: before, dryRun: true });
    expect(dry.warnings).toHaveLength(1);
    expect(dry.warnings[0]).toMatch(/^regcred: .*dry run/);
  });
});
