import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/args.js";
import { connect } from "../../../src/cli/kube.js";

function kubeconfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), "regcred-kc-")), "config");
  writeFileSync(file, JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": "dev",
    clusters: [{ name: "c1", cluster: { server: "https://127.0.0.1:6443" } }, { name: "c2", cluster: { server: "https://127.0.0.1:7443" } }],
    users: [{ name: "alice", user: { token: "t" } }],
    contexts: [
      { name: "dev", context: { cluster: "c1", user: "alice", namespace: "team-a" } },
      { name: "prod", context: { cluster: "c2", user: "alice" } },
    ],
  }));
  return file;
}

describe("connect", () => {
  it("uses the current context and its namespace, as kubectl does", () => {
    const conn = connect({ kubeconfig: kubeconfig() });
    expect(conn.server).toBe("https://127.0.0.1:6443");
    expect(conn.defaultNamespace).toBe("team-a");
  });
  it("switches context with --context; a context without a namespace means default", () => {
    const conn = connect({ kubeconfig: kubeconfig(), context: "prod" });
    expect(conn.server).toBe("https://127.0.0.1:7443");
    expect(conn.defaultNamespace).toBe("default");
  });
  it("names what is wrong", () => {
    expect(() => connect({ kubeconfig: kubeconfig(), context: "nope" })).toThrow('context "nope" is not in the kubeconfig (contexts: dev, prod)');
    expect(() => connect({ kubeconfig: "/nonexistent/kubeconfig" })).toThrow(UsageError);
    expect(() => connect({ kubeconfig: "/nonexistent/kubeconfig" })).toThrow("no such file");
  });
});
