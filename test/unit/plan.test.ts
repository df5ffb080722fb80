import { describe, it, expect } from "vitest";
import type { V1Secret } from "@kubernetes/client-node";
import { injectionPolicy } from "../../src/admission/eligibility.js";
import type { NamespaceInfo } from "../../src/admission/eligibility.js";
import type { Condition, PullSecretExport, PullSecretExportSpec, PullSecretExportStatus } from "../../src/api/types.js";
import { joinExport } from "../../src/cluster/exportIndex.js";
import type { VerificationMode } from "../../src/config/settings.js";
import { isMarked, planExport } from "../../src/controller/plan.js";
import type { Action, ExportObservation } from "../../src/controller/plan.js";
import { copySecret, copyTemplate } from "../../src/copies/desired.js";
import { copyName } from "../../src/copies/naming.js";
import type { AccessCheck } from "../../src/registry/access.js";
import { b64, exportObject, namespace, optedIn, sourceSecret } from "./fixtures.js";

const NS = "registry-creds";
const NAME = "harbor-ro";
const COPY = copyName(NS, NAME);
const POLICY = injectionPolicy("optIn", "regcred-system", []);
const NOW = "2026-03-01T10:00:00.000Z";
const LATER = "2026-03-01T10:05:00.000Z";
const ENTRIES = { "harbor.example.com": { user: "robot$ro", password: "harbor-PW" } };
const MARKS = { labels: { "regcred.dev/exported": "true" }, finalizers: ["regcred.dev/revoke-copies"] };

const READ_ONLY: AccessCheck = { verdict: "ReadOnly", method: "token-scope", message: "the token service granted pull only", registry: "harbor.example.com", repository: "robot/regcred-probe" };
const WRITABLE: AccessCheck = { verdict: "Writable", method: "upload", message: "a blob upload was accepted", registry: "harbor.example.com", repository: "robot/regcred-probe" };
const UNKNOWN: AccessCheck = { verdict: "Unknown", method: "none", message: "the registry did not answer" };

const NAMESPACES: NamespaceInfo[] = [
  optedIn("team-a"), optedIn("team-b"), namespace("team-c"), optedIn(NS), optedIn("kube-system"), optedIn("regcred-system"),
];

function markedSource(extra: { resourceVersion?: string; deletionTimestamp?: Date } = {}): V1Secret {
  return sourceSecret(NS, NAME, ENTRIES, { ...MARKS, ...extra });
}

function theExport(spec: PullSecretExportSpec = { toNamespaces: ["*"] }, status?: PullSecretExportStatus): PullSecretExport {
  const exp = exportObject(NS, NAME, spec, 3);
  if (status) exp.status = status;
  return exp;
}

interface Observed {
  exp: PullSecretExport | undefined;
  source: V1Secret | undefined;
  copies?: V1Secret[];
  namespaces?: NamespaceInfo[];
  access?: AccessCheck;
  mode?: VerificationMode;
  now?: string;
}

function observation(o: Observed): ExportObservation {
  return {
    namespace: NS, name: NAME,
    joined: o.exp ? joinExport(o.exp, o.source) : undefined,
    source: o.source,
    namespaces: o.namespaces ?? NAMESPACES,
    copies: o.copies ?? [],
    access: "access" in o ? o.access : READ_ONLY,
    policy: POLICY,
    verificationMode: o.mode ?? "BestEffort",
    now: o.now ?? NOW,
  };
}

/** A copy as regcred writes it for the export and source given (current), or for older data (stale). */
function copyIn(ns: string, o: { exp?: PullSecretExport; source?: V1Secret; stale?: boolean; onRevoke?: "Delete" | "Orphan" } = {}): V1Secret {
  if (o.stale) {
    return copySecret(copyTemplate(NS, NAME, "kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64('{"auths":{}}') }, "1", o.onRevoke ?? "Delete"), ns);
  }
  const template = joinExport(o.exp ?? theExport(), o.source ?? markedSource()).distributable?.template;
  if (!template) throw new Error("no template");
  return copySecret({ ...template, onRevoke: o.onRevoke ?? template.onRevoke }, ns);
}

const plan = (o: Observed): Action[] => planExport(observation(o));

function status(actions: readonly Action[]): PullSecretExportStatus {
  const update = actions.find((a) => a.kind === "updateStatus");
  if (update?.kind !== "updateStatus") throw new Error(`no updateStatus in ${JSON.stringify(actions.map((a) => a.kind))}`);
  return update.status;
}

function condition(actions: readonly Action[], type: string): Condition {
  const c = status(actions).conditions?.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition`);
  return c;
}

function conditionsOf(actions: readonly Action[]): Record<string, [string, string]> {
  return Object.fromEntries((status(actions).conditions ?? []).map((c) => [c.type, [c.status, c.reason]]));
}

const writes = (actions: readonly Action[]): { namespace: string; create: boolean }[] =>
  actions.flatMap((a) => (a.kind === "writeCopy" ? [{ namespace: a.namespace, create: a.create }] : []));
const deletes = (actions: readonly Action[]): { namespace: string; name: string }[] =>
  actions.flatMap((a) => (a.kind === "deleteCopy" ? [{ namespace: a.namespace, name: a.name }] : []));
const kinds = (actions: readonly Action[]): string[] => actions.map((a) => a.kind);

describe("planExport: the source secret", () => {
  it("marks a source that is not marked yet, first", () => {
    const actions = plan({ exp: theExport(), source: sourceSecret(NS, NAME, ENTRIES) });
    expect(actions[0]).toEqual({ kind: "markSource" });
  });

  it("marks a source that has the label but not the finalizer", () => {
    const half = sourceSecret(NS, NAME, ENTRIES, { labels: MARKS.labels });
    expect(isMarked(half)).toBe(false);
    expect(kinds(plan({ exp: theExport(), source: half }))).toContain("markSource");
  });

  it("leaves a marked source alone", () => {
    expect(isMarked(markedSource())).toBe(true);
    expect(kinds(plan({ exp: theExport(), source: markedSource() }))).not.toContain("markSource");
  });
});

describe("planExport: conditions", () => {
  it("valid, read-only: Ready, with registries, source version, access and generation in the status", () => {
    const actions = plan({ exp: theExport(), source: markedSource({ resourceVersion: "777" }) });
    expect(conditionsOf(actions)).toEqual({
      CredentialsValid: ["True", "Valid"], ReadOnlyVerified: ["True", "ReadOnly"], Ready: ["True", "Distributing"],
    });
    expect(status(actions)).toMatchObject({
      observedGeneration: 3, sourceResourceVersion: "777", registries: ["harbor.example.com"], copies: 0,
      access: { verdict: "ReadOnly", method: "token-scope", checkedAt: NOW, message: READ_ONLY.message },
    });
    for (const c of status(actions).conditions ?? []) expect(c).toMatchObject({ lastTransitionTime: NOW, observedGeneration: 3 });
  });

  it("source not found: CredentialsValid and Ready False SourceNotFound, with what to create", () => {
    const actions = plan({ exp: theExport(), source: undefined, access: undefined });
    expect(conditionsOf(actions)).toEqual({
      CredentialsValid: ["False", "SourceNotFound"], ReadOnlyVerified: ["Unknown", "SourceNotFound"], Ready: ["False", "SourceNotFound"],
    });
    expect(condition(actions, "Ready").message).toContain(`named ${NAME} in ${NS}`);
    expect(kinds(actions)).toEqual(["updateStatus"]);
  });

  it("source malformed: SourceMalformed, nothing written, and copies left as they are", () => {
    const bad: V1Secret = { ...markedSource(), data: { ".dockerconfigjson": b64('{"auths": 5}') } };
    const copies = [copyIn("team-a"), copyIn("team-c")];
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: bad, copies, access: undefined });
    expect(conditionsOf(actions)).toEqual({
      CredentialsValid: ["False", "SourceMalformed"], ReadOnlyVerified: ["Unknown", "SourceMalformed"], Ready: ["False", "SourceMalformed"],
    });
    expect(condition(actions, "Ready").message).toMatch(/existing copies are left as they are/);
    expect(writes(actions)).toEqual([]);
    expect(deletes(actions)).toEqual([]);
  });

  it("wrong secret type: WrongSecretType", () => {
    const opaque: V1Secret = { ...markedSource(), type: "Opaque" };
    const actions = plan({ exp: theExport(), source: opaque, access: undefined });
    expect(conditionsOf(actions)).toMatchObject({ CredentialsValid: ["False", "WrongSecretType"], Ready: ["False", "WrongSecretType"] });
  });

  it.each(["Required", "BestEffort", "DeclaredOnly"] as const)(
    "writable (%s): not distributed, ReadOnlyVerified False, copies left alone", (mode) => {
      const copies = [copyIn("team-a"), copyIn("team-b", { stale: true }), copyIn("team-c")];
      const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: markedSource(), copies, access: WRITABLE, mode });
      expect(conditionsOf(actions)).toEqual({
        CredentialsValid: ["True", "Valid"], ReadOnlyVerified: ["False", "Writable"], Ready: ["False", "Writable"],
      });
      expect(condition(actions, "Ready").message).toContain("harbor.example.com/robot/regcred-probe");
      expect(condition(actions, "Ready").message).not.toMatch(/^regcred: /);
      expect(writes(actions)).toEqual([]);
      expect(deletes(actions)).toEqual([]);
      expect(status(actions).access?.verdict).toBe("Writable");
    },
  );

  it("unknown under Required: not distributed, NotVerified", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: markedSource(), access: UNKNOWN, mode: "Required", copies: [copyIn("team-c")] });
    expect(conditionsOf(actions)).toEqual({
      CredentialsValid: ["True", "Valid"], ReadOnlyVerified: ["Unknown", "NotVerified"], Ready: ["False", "NotVerified"],
    });
    expect(writes(actions)).toEqual([]);
    expect(deletes(actions)).toEqual([]);
  });

  it.each(["BestEffort", "DeclaredOnly"] as const)("unknown under %s: distributed, ReadOnlyVerified Unknown", (mode) => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: markedSource(), access: UNKNOWN, mode });
    expect(conditionsOf(actions)).toEqual({
      CredentialsValid: ["True", "Valid"], ReadOnlyVerified: ["Unknown", "NotVerified"], Ready: ["True", "Distributing"],
    });
    expect(writes(actions).length).toBeGreaterThan(0);
  });
});

describe("planExport: copies", () => {
  it("spec.registries naming no registry of the source: not Ready, nothing written, existing copies revoked", () => {
    const before = theExport({ toNamespaces: ["*"], provisioning: "Eager" });
    const narrowed = theExport({ toNamespaces: ["*"], provisioning: "Eager", registries: ["quay.io"] });
    const actions = plan({ exp: narrowed, source: markedSource(), copies: [copyIn("team-a", { exp: before })] });
    expect(writes(actions)).toEqual([]);
    expect(deletes(actions)).toEqual([{ namespace: "team-a", name: COPY }]);
    expect(condition(actions, "Ready")).toMatchObject({ status: "False", reason: "NoRegistries" });
    expect(condition(actions, "CredentialsValid").status).toBe("True");
  });

  it("Eager: creates copies in every eligible namespace, not in the export's own, excluded or not opted-in ones", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: markedSource() });
    expect(writes(actions)).toEqual([{ namespace: "team-a", create: true }, { namespace: "team-b", create: true }]);
  });

  it("Eager respects toNamespaces, the selector and the namespace's exports limit", () => {
    const namespaces = [optedIn("team-a", { env: "prod" }), optedIn("team-b", { env: "prod" }, { "regcred.dev/exports": "other/x" }), optedIn("team-d", { env: "dev" })];
    const actions = plan({
      exp: theExport({ toNamespaces: ["team-a", "team-b", "team-d"], namespaceSelector: { matchLabels: { env: "prod" } }, provisioning: "Eager" }),
      source: markedSource(), namespaces,
    });
    expect(writes(actions)).toEqual([{ namespace: "team-a", create: true }]);
  });

  it("OnDemand: creates nothing up front", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"] }), source: markedSource() });
    expect(writes(actions)).toEqual([]);
  });

  it.each(["OnDemand", "Eager"] as const)("%s: a stale copy is rewritten (rotation), a current one is not", (provisioning) => {
    const exp = theExport({ toNamespaces: ["*"], provisioning });
    const actions = plan({ exp, source: markedSource(), copies: [copyIn("team-a", { exp }), copyIn("team-b", { stale: true })] });
    expect(writes(actions)).toEqual([{ namespace: "team-b", create: false }]);
  });

  it("a copy is rewritten when the export's onRevoke changed", () => {
    const exp = theExport({ toNamespaces: ["*"], onRevoke: "Orphan" });
    const actions = plan({ exp, source: markedSource(), copies: [copyIn("team-a", { onRevoke: "Delete" })] });
    expect(writes(actions)).toEqual([{ namespace: "team-a", create: false }]);
  });

  it("a new source version makes every copy stale", () => {
    const exp = theExport({ toNamespaces: ["*"] });
    const copies = [copyIn("team-a", { exp }), copyIn("team-b", { exp })];
    const rotated = sourceSecret(NS, NAME, { "harbor.example.com": { user: "robot$ro", password: "rotated-PW" } }, { ...MARKS, resourceVersion: "200" });
    expect(writes(plan({ exp, source: rotated, copies }))).toEqual([{ namespace: "team-a", create: false }, { namespace: "team-b", create: false }]);
  });

  it("status.copies counts the namespaces holding a current copy", () => {
    const exp = theExport({ toNamespaces: ["*"] });
    const three = [optedIn("team-a"), optedIn("team-b"), optedIn("team-x")];
    const actions = plan({ exp, source: markedSource(), namespaces: three, copies: [copyIn("team-a", { exp }), copyIn("team-b", { exp }), copyIn("team-x", { stale: true })] });
    expect(status(actions).copies).toBe(2);
  });

  it("onRevoke Delete: a copy in a namespace no longer eligible is deleted", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"] }), source: markedSource(), copies: [copyIn("team-a"), copyIn("team-c")] });
    expect(deletes(actions)).toEqual([{ namespace: "team-c", name: COPY }]);
    expect(writes(actions)).toEqual([]);
  });

  it("onRevoke Delete: narrowing toNamespaces, and a namespace that is gone, revoke copies", () => {
    const exp = theExport({ toNamespaces: ["team-a"] });
    const actions = plan({ exp, source: markedSource(), copies: [copyIn("team-a", { exp }), copyIn("team-b", { exp }), copyIn("deleted-ns", { exp })] });
    expect(deletes(actions)).toEqual([{ namespace: "team-b", name: COPY }, { namespace: "deleted-ns", name: COPY }]);
    expect(status(actions).copies).toBe(1);
  });

  it("onRevoke Orphan: a copy in a namespace no longer eligible is left", () => {
    const exp = theExport({ toNamespaces: ["*"], onRevoke: "Orphan" });
    const actions = plan({ exp, source: markedSource(), copies: [copyIn("team-c", { exp })] });
    expect(deletes(actions)).toEqual([]);
  });

  it("source missing: copies are revoked per onRevoke", () => {
    const copies = [copyIn("team-a"), copyIn("team-b")];
    expect(deletes(plan({ exp: theExport(), source: undefined, copies, access: undefined }))).toEqual([
      { namespace: "team-a", name: COPY }, { namespace: "team-b", name: COPY },
    ]);
    expect(deletes(plan({ exp: theExport({ toNamespaces: ["*"], onRevoke: "Orphan" }), source: undefined, copies, access: undefined }))).toEqual([]);
  });
});

describe("planExport: the export is deleted", () => {
  const copies = [copyIn("team-a", { onRevoke: "Delete" }), copyIn("team-b", { onRevoke: "Orphan" }), copyIn("team-c", { onRevoke: "Delete" })];

  it("deletes the copies whose regcred.dev/on-revoke says Delete, then releases the source", () => {
    const actions = plan({ exp: undefined, source: markedSource(), copies, access: undefined });
    expect(actions).toEqual([
      { kind: "deleteCopy", namespace: "team-a", name: COPY },
      { kind: "deleteCopy", namespace: "team-c", name: COPY },
      { kind: "releaseSource" },
    ]);
  });

  it("a copy without the annotation is deleted", () => {
    const bare = copyIn("team-d");
    delete bare.metadata?.annotations?.["regcred.dev/on-revoke"];
    expect(deletes(plan({ exp: undefined, source: undefined, copies: [bare], access: undefined }))).toEqual([{ namespace: "team-d", name: COPY }]);
  });

  it("releases the source only when it carries regcred's marks, and writes no status", () => {
    expect(plan({ exp: undefined, source: sourceSecret(NS, NAME, ENTRIES), access: undefined })).toEqual([]);
    expect(plan({ exp: undefined, source: sourceSecret(NS, NAME, ENTRIES, { finalizers: MARKS.finalizers }), access: undefined })).toEqual([{ kind: "releaseSource" }]);
    expect(plan({ exp: undefined, source: undefined, access: undefined })).toEqual([]);
  });
});

describe("planExport: the source is being deleted", () => {
  const deleting = markedSource({ deletionTimestamp: new Date(NOW) });

  it("revokes every copy, then releases the source, and reports SourceNotFound", () => {
    const copies = [copyIn("team-a"), copyIn("team-b")];
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], provisioning: "Eager" }), source: deleting, copies });
    expect(kinds(actions)).toEqual(["deleteCopy", "deleteCopy", "releaseSource", "updateStatus"]);
    expect(deletes(actions)).toEqual([{ namespace: "team-a", name: COPY }, { namespace: "team-b", name: COPY }]);
    expect(condition(actions, "Ready")).toMatchObject({ status: "False", reason: "SourceNotFound" });
  });

  it("onRevoke Orphan: releases the source, leaving the copies", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"], onRevoke: "Orphan" }), source: deleting, copies: [copyIn("team-a")] });
    expect(kinds(actions)).toEqual(["releaseSource", "updateStatus"]);
  });

  it("does not mark a source that is being deleted", () => {
    const unmarkedDeleting = sourceSecret(NS, NAME, ENTRIES, { deletionTimestamp: new Date(NOW) });
    expect(kinds(plan({ exp: theExport(), source: unmarkedDeleting }))).toEqual(["updateStatus"]);
  });
});

describe("planExport: status writes", () => {
  const exp0 = theExport({ toNamespaces: ["*"] });
  const copies = [copyIn("team-a", { exp: exp0 })];

  function settled(): PullSecretExportStatus {
    return status(plan({ exp: exp0, source: markedSource(), copies }));
  }

  it("no updateStatus when the previous status is fed back in and nothing changed", () => {
    const actions = plan({ exp: theExport({ toNamespaces: ["*"] }, settled()), source: markedSource(), copies, now: LATER });
    expect(kinds(actions)).not.toContain("updateStatus");
    expect(actions).toEqual([]);
  });

  it("no updateStatus either when the status comes back from the API server with its keys sorted", () => {
    const sortKeys = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(sortKeys);
      if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]));
      }
      return value;
    };
    const fromServer = sortKeys(JSON.parse(JSON.stringify(settled()))) as PullSecretExportStatus;
    expect(Object.keys(fromServer)).not.toEqual(Object.keys(settled()));
    const actions = plan({ exp: theExport({ toNamespaces: ["*"] }, fromServer), source: markedSource(), copies, now: LATER });
    expect(kinds(actions)).not.toContain("updateStatus");
  });

  it("keeps lastTransitionTime (and access.checkedAt) when only other fields changed", () => {
    const exp = theExport({ toNamespaces: ["*"] }, settled());
    const actions = plan({ exp, source: markedSource(), copies: [...copies, copyIn("team-b", { exp: exp0 })], now: LATER });
    expect(status(actions).copies).toBe(2);
    for (const c of status(actions).conditions ?? []) expect(c.lastTransitionTime).toBe(NOW);
    expect(status(actions).access?.checkedAt).toBe(NOW);
  });

  it("moves lastTransitionTime only for conditions whose status changed", () => {
    const exp = theExport({ toNamespaces: ["*"] }, settled());
    const actions = plan({ exp, source: markedSource(), copies, access: WRITABLE, now: LATER });
    expect(condition(actions, "CredentialsValid").lastTransitionTime).toBe(NOW);
    expect(condition(actions, "ReadOnlyVerified").lastTransitionTime).toBe(LATER);
    expect(condition(actions, "Ready").lastTransitionTime).toBe(LATER);
    expect(status(actions).access).toMatchObject({ verdict: "Writable", checkedAt: LATER });
  });

  it("a new generation is a status change", () => {
    const exp = theExport({ toNamespaces: ["*"] }, settled());
    exp.metadata.generation = 4;
    const actions = plan({ exp, source: markedSource(), copies, now: LATER });
    expect(status(actions).observedGeneration).toBe(4);
    expect(condition(actions, "Ready")).toMatchObject({ observedGeneration: 4, lastTransitionTime: NOW });
  });
});
