import { describe, expect, it } from "vitest";
import { secretColumns } from "../../../src/cli/commands/list.js";
import { renderStatus } from "../../../src/cli/commands/status.js";
import { renderCheck } from "../../../src/cli/commands/check.js";
import { describeTargets, exportSpecFor, secretRow, warningsOf, type SecretStatus } from "../../../src/cli/operations.js";
import { age, renderStructured, renderTable, safeText } from "../../../src/cli/output.js";
import type { PullSecretExport } from "../../../src/api/types.js";
import { dockerConfigJson, sourceSecret } from "../../harness/fixtures.js";

const NOW = Date.parse("2026-01-02T12:00:00Z");
const PASSWORD = "table-Pa55word";

function exportOf(name: string, spec: PullSecretExport["spec"], status?: PullSecretExport["status"]): PullSecretExport {
  return { apiVersion: "regcred.dev/v1alpha1", kind: "PullSecretExport", metadata: { name, namespace: "registry-creds", creationTimestamp: new Date(NOW - 3600_000) }, spec, ...(status ? { status } : {}) };
}

describe("renderTable", () => {
  it("aligns columns kubectl's way and shows empty cells as <none>", () => {
    const text = renderTable([{ a: "x", b: "" }, { a: "longer", b: "y" }], [{ header: "name", value: (r) => r.a }, { header: "value", value: (r) => r.b }]);
    expect(text).toBe("NAME     VALUE\nx        <none>\nlonger   y\n");
  });
  it("escapes control characters so a value cannot drive the terminal", () => {
    expect(safeText("a\u001b[2Jb\nc")).toBe("a\\x1b[2Jb\\x0ac");
    expect(renderTable([{ a: "\u001b]0;title\u0007" }], [{ header: "x", value: (r) => r.a }])).not.toContain("\u001b");
  });
  it("renders JSON and YAML", () => {
    expect(renderStructured({ a: [1] }, "json")).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(renderStructured({ a: "*" }, "yaml")).toBe("a: '*'\n");
  });
  it("tells ages as kubectl does", () => {
    expect(age(new Date(NOW - 5000), NOW)).toBe("5s");
    expect(age(new Date(NOW - 600_000).toISOString(), NOW)).toBe("10m");
    expect(age(new Date(NOW - 5 * 3600_000), NOW)).toBe("5h");
    expect(age(new Date(NOW - 3 * 86400_000), NOW)).toBe("3d");
    expect(age(undefined, NOW)).toBe("");
  });
});

describe("the list of secrets", () => {
  const source = sourceSecret("registry-creds", "harbor-ro", dockerConfigJson({ "harbor.example.com": { username: "u", password: PASSWORD }, "quay.io": { username: "u", password: PASSWORD } }));
  source.metadata = { ...source.metadata, creationTimestamp: new Date(NOW - 7200_000) };

  it("joins a secret with its export and never holds the credentials", () => {
    const exp = exportOf("harbor-ro", { toNamespaces: ["team-a", "team-b"], namespaceSelector: { matchLabels: { tier: "prod" } } }, {
      copies: 2, access: { verdict: "ReadOnly", method: "token-scope", checkedAt: "x" },
      conditions: [{ type: "Ready", status: "True", reason: "Distributing", message: "m", lastTransitionTime: "x" }],
    });
    const row = secretRow(source, exp);
    expect(row).toMatchObject({ namespace: "registry-creds", name: "harbor-ro", registries: ["harbor.example.com", "quay.io"], exported: true, exportedTo: "team-a,team-b matching tier=prod", copies: 2, ready: "True" });
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect(JSON.stringify(row)).not.toContain(Buffer.from(`u:${PASSWORD}`).toString("base64"));
    const text = renderTable([row, secretRow(source, undefined), secretRow(undefined, exportOf("gone", { toNamespaces: ["*"] }))], secretColumns(true, NOW));
    expect(text.split("\n")).toEqual([
      "NAMESPACE        NAME        REGISTRIES                   EXPORTED TO                        ACCESS     COPIES   READY    AGE",
      "registry-creds   harbor-ro   harbor.example.com,quay.io   team-a,team-b matching tier=prod   ReadOnly   2        True     2h",
      "registry-creds   harbor-ro   harbor.example.com,quay.io   -                                  -          -        -        2h",
      "registry-creds   gone        <source missing>             *                                  <none>     <none>   <none>   60m",
      "",
    ]);
  });
  it("marks a malformed source", () => {
    const bad = { ...source, data: { ".dockerconfigjson": Buffer.from("{").toString("base64") } };
    const row = secretRow(bad, undefined);
    expect(row.problem).toContain("not valid JSON");
    expect(renderTable([row], secretColumns(false, NOW))).toContain("<malformed>");
  });
  it("describes targets", () => {
    expect(describeTargets(["*"], undefined)).toBe("*");
    expect(describeTargets(["a", "*"], undefined)).toBe("*");
    expect(describeTargets([], undefined)).toBe("nothing");
  });
});

describe("export specs", () => {
  it("default to every namespace, or the selector alone", () => {
    expect(exportSpecFor({}, undefined)).toEqual({ toNamespaces: ["*"] });
    expect(exportSpecFor({ namespaceSelector: { matchLabels: { a: "b" } } }, undefined)).toEqual({ namespaceSelector: { matchLabels: { a: "b" } } });
    expect(exportSpecFor({ toNamespaces: ["a"], eager: true }, undefined)).toEqual({ toNamespaces: ["a"], provisioning: "Eager" });
  });
  it("replace the targets and provisioning of an existing export and keep the rest", () => {
    const existing = { toNamespaces: ["old"], namespaceSelector: { matchLabels: { x: "y" } }, provisioning: "Eager" as const, onRevoke: "Orphan" as const, registries: ["quay.io"], verification: { repositories: ["a/b"] } };
    expect(exportSpecFor({ toNamespaces: ["new"] }, existing)).toEqual({ toNamespaces: ["new"], onRevoke: "Orphan", registries: ["quay.io"], verification: { repositories: ["a/b"] } });
  });
});

describe("warnings", () => {
  it("reads the texts of Warning headers", () => {
    expect(warningsOf({ warning: '299 - "regcred: one, with a comma", 299 - "two \\"quoted\\""' })).toEqual(["regcred: one, with a comma", 'two "quoted"']);
    expect(warningsOf({})).toEqual([]);
  });
});

describe("status and check texts", () => {
  it("show conditions, copies and events", () => {
    const s: SecretStatus = {
      namespace: "registry-creds", name: "harbor-ro",
      source: { found: true, type: "kubernetes.io/dockerconfigjson", registries: ["harbor.example.com"], declaredAccess: "read-only" },
      export: {
        toNamespaces: ["*"], exportedTo: "*", registries: [], provisioning: "OnDemand", onRevoke: "Delete", repositories: [], generation: 2, observedGeneration: 2,
        access: { verdict: "ReadOnly", method: "declared", checkedAt: new Date(NOW - 60_000).toISOString(), message: "declared" }, copies: 1,
        conditions: [{ type: "Ready", status: "True", reason: "Distributing", message: "offered", lastTransitionTime: new Date(NOW - 120_000).toISOString() }],
      },
      copies: [{ namespace: "team-a", name: "regcred.registry-creds.harbor-ro", state: "current" }],
      events: [{ type: "Normal", reason: "CopyCreated", message: "copy created in team-a", count: 3, lastSeen: new Date(NOW - 30_000).toISOString(), from: "regcred" }],
    };
    const text = renderStatus(s, NOW);
    expect(text).toContain("Secret:       registry-creds/harbor-ro (kubernetes.io/dockerconfigjson)");
    expect(text).toContain("Export:       to *; provisioning OnDemand, onRevoke Delete");
    expect(text).toContain("Access:       ReadOnly (by declared, 60s ago): declared");
    expect(text).toContain("  Ready   True     Distributing   2m    offered");
    expect(text).toContain("  team-a      regcred.registry-creds.harbor-ro   current");
    expect(text).toContain("copy created in team-a (x3)");
    const bare = renderStatus({ ...s, export: undefined, source: { found: false, registries: [] }, copies: [], events: [] }, NOW);
    expect(bare).toContain("does not exist");
    expect(bare).toContain("not exported (regcred export harbor-ro -n registry-creds)");
  });
  it("says how the verdict was found", () => {
    const text = renderCheck("ns/x", { verdict: "Writable", method: "upload", message: "HTTP 202", registry: "r", repository: "a/b" });
    expect(text).toContain("Verdict:      Writable");
    expect(text).toContain("Method:       upload (started a blob upload and cancelled it)");
    expect(text).toContain("Repository:   a/b");
  });
});
