import { describe, it, expect } from "vitest";
import { injectionPolicy } from "../../src/admission/eligibility.js";
import type { NamespaceInfo } from "../../src/admission/eligibility.js";
import { resolveSpec } from "../../src/api/types.js";
import type { PullSecretExportSpec } from "../../src/api/types.js";
import { exportsAffectedByNamespace } from "../../src/controller/affected.js";
import type { ExportTarget } from "../../src/controller/affected.js";
import { namespace, optedIn } from "./fixtures.js";

const NS = "registry-creds";
const OPT_IN = injectionPolicy("optIn", "regcred-system", ["sandbox"]);
const ALL = injectionPolicy("allNamespaces", "regcred-system", ["sandbox"]);

function target(name: string, spec: PullSecretExportSpec, exportNamespace = NS): ExportTarget {
  return { namespace: exportNamespace, name, spec: resolveSpec(spec) };
}

const EVERYWHERE = target("everywhere", { toNamespaces: ["*"] });
const TEAM_A_ONLY = target("team-a-only", { toNamespaces: ["team-a"] });
const GOLD = target("gold", { namespaceSelector: { matchLabels: { tier: "gold" } }, provisioning: "Eager" });
const EXPORTS = [EVERYWHERE, TEAM_A_ONLY, GOLD];

function affected(ns: NamespaceInfo, copyKeys: string[] = [], exports: ExportTarget[] = EXPORTS, policy = OPT_IN): string[] {
  return [...exportsAffectedByNamespace(ns, exports, copyKeys, policy)].sort();
}

describe("exportsAffectedByNamespace", () => {
  it("takes the exports eligible for the namespace and leaves out the others that have no copy there", () => {
    expect(affected(optedIn("team-a", { tier: "gold" }))).toEqual([`${NS}/everywhere`, `${NS}/gold`, `${NS}/team-a-only`]);
    expect(affected(optedIn("team-b", { tier: "silver" }))).toEqual([`${NS}/everywhere`]);
  });

  it("takes an export with a copy in the namespace whose selector no longer matches it", () => {
    expect(affected(optedIn("team-b", { tier: "silver" }), [`${NS}/gold`])).toEqual([`${NS}/everywhere`, `${NS}/gold`]);
  });

  it("takes an export with a copy in a namespace it no longer lists in toNamespaces", () => {
    expect(affected(optedIn("team-b"), [`${NS}/team-a-only`], [TEAM_A_ONLY])).toEqual([`${NS}/team-a-only`]);
  });

  it("takes nothing for a namespace that has not opted in and holds no copies", () => {
    expect(affected(namespace("team-c", {}, { tier: "gold" }))).toEqual([]);
  });

  it("takes only the exports with copies in a namespace that opted out", () => {
    const optedOut = namespace("team-a", { "regcred.dev/inject": "false" }, { tier: "gold" });
    expect(affected(optedOut, [`${NS}/gold`])).toEqual([`${NS}/gold`]);
    expect(affected(optedOut, [], EXPORTS, ALL)).toEqual([]);
  });

  it("takes only the exports with copies in an excluded namespace, even opted in", () => {
    for (const name of ["kube-system", "kube-public", "kube-node-lease", "regcred-system", "sandbox"]) {
      expect(affected(optedIn(name, { tier: "gold" }), [`${NS}/everywhere`], EXPORTS, ALL)).toEqual([`${NS}/everywhere`]);
    }
  });

  it("follows allNamespaces mode for a namespace that says nothing", () => {
    const silent = namespace("team-c", {}, { tier: "gold" });
    expect(affected(silent, [], EXPORTS, ALL)).toEqual([`${NS}/everywhere`, `${NS}/gold`]);
  });

  it("honours the namespace's regcred.dev/exports limit, but still takes a limited-out export's copy", () => {
    const limited = optedIn("team-a", { tier: "gold" }, { "regcred.dev/exports": ` ${NS}/gold , other/x` });
    expect(affected(limited)).toEqual([`${NS}/gold`]);
    expect(affected(limited, [`${NS}/everywhere`])).toEqual([`${NS}/everywhere`, `${NS}/gold`]);
  });

  it("leaves out an export for its own namespace, where it is never copied", () => {
    expect(affected(optedIn(NS, { tier: "gold" }))).toEqual([]);
    const elsewhere = target("everywhere", { toNamespaces: ["*"] }, "platform");
    expect(affected(optedIn(NS), [], [elsewhere])).toEqual(["platform/everywhere"]);
  });

  it("takes the export of every copy in the namespace, an orphan whose export is gone included, each once", () => {
    const keys = exportsAffectedByNamespace(optedIn("team-a"), [EVERYWHERE], [`${NS}/everywhere`, "gone/orphan", "gone/orphan"], OPT_IN);
    expect([...keys].sort()).toEqual(["gone/orphan", `${NS}/everywhere`]);
  });

  it("treats an export with neither toNamespaces nor a selector as targeting nothing", () => {
    expect(affected(optedIn("team-a"), [], [target("nothing", {})])).toEqual([]);
  });
});
