/**
 * `regcred list -A` as a user without cluster-wide read access: the real CLI, as a child process,
 * against the real test control plane (RBAC on), with the token of a ServiceAccount whose rights are
 * a Role in one namespace. What they see: the secrets they may read, and the namespaces they may not
 * named on standard error; or, when they may not even list namespaces, the API server's refusal.
 *
 * Namespace names are fresh per run: namespaces never finish deleting in this control plane.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ApiextensionsV1Api, CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import { applyCrd } from "../../src/install/crd.js";
import { runCli, type CliRun } from "../harness/cli.js";
import { clientsFor, createNamespace, dockerConfigJson, eventually, sourceSecret, uniqueName, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig } from "../harness/regcred.js";
import { serviceAccountKubeconfig } from "../harness/serviceAccount.js";

const USERNAME = "rbac-puller";
const PASSWORD = "rbac-Pa55word-never-printed-5c2b";

type Run = CliRun;

let admin: KubeConfig;
let c: Clients;
let rbac: RbacAuthorizationV1Api;
/** Values no output may hold: the password in its forms, and the ServiceAccounts' tokens. */
const secrets: string[] = [PASSWORD, Buffer.from(PASSWORD).toString("base64"), Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")];
const cleanups: (() => Promise<unknown>)[] = [];

// Namespace A: the one the users may read. Namespace B: one they may not; its name sorts before the
// others' (a leading digit), so it is among the first ten the warning names.
const nsA = uniqueName("rbac-a");
const nsB = uniqueName("0rbac-b");
const secretA = uniqueName("rbac-creds-a");
const secretB = uniqueName("rbac-creds-b");
const registryA = `${secretA}.example.com`;
const registryB = `${secretB}.example.com`;
const clusterRole = uniqueName("regcred-rbac-test-list-namespaces");

function regcredCli(args: string[], kubeconfig: string): Promise<Run> {
  return runCli(args, { kubeconfig });
}

function expectNoSecrets(run: Run): void {
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/"auth"\s*:|\.dockerconfigjson"?\s*:\s*\S|"password"\s*:/);
}

/** A ServiceAccount in namespace A, its kubeconfig written to a private file. */
async function serviceAccount(name: string): Promise<{ name: string; file: string; core: CoreV1Api }> {
  const kc = await serviceAccountKubeconfig(admin, nsA, name);
  const token = kc.getCurrentUser()?.token ?? "";
  expect(token).not.toBe("");
  secrets.push(token);
  const file = join(mkdtempSync(join(tmpdir(), "regcred-cli-rbac-")), "kubeconfig");
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return { name, file, core: kc.makeApiClient(CoreV1Api) };
}

async function statusOf(call: () => Promise<unknown>): Promise<number | "ok"> {
  try {
    await call();
    return "ok";
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** The table's rows (header left out), each split into its cells. */
function tableRows(stdout: string): string[][] {
  return stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s{3,}/));
}

/** The namespaces a `you may not list RESOURCE in N namespace(s): a, b, …` warning names, and its N. */
function skippedIn(stderr: string, resource: string): { count: number; named: string[] } | undefined {
  const prefix = `Warning: you may not list ${resource} in `;
  const line = stderr.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  const m = /^(\d+) namespace\(s\): (.*)$/.exec(line.slice(prefix.length));
  if (!m) throw new Error(`unexpected warning: ${line}`);
  return { count: Number(m[1]), named: (m[2] ?? "").split(", ").filter((n) => n !== "…") };
}

let lister: Awaited<ReturnType<typeof serviceAccount>>;
let confined: Awaited<ReturnType<typeof serviceAccount>>;

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  c = clientsFor(admin);
  rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  // `list` reads exports too: the API must exist whichever test file ran first.
  await applyCrd(admin.makeApiClient(ApiextensionsV1Api));
  // A CRD just established answers 429 "storage is (re)initializing" for a moment.
  await eventually("the PullSecretExport API to serve lists", async () => {
    await c.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: EXPORT_PLURAL });
    return true;
  });

  await createNamespace(c, nsA);
  await createNamespace(c, nsB);
  for (const [ns, name, registry] of [[nsA, secretA, registryA], [nsB, secretB, registryB]] as const) {
    await c.core.createNamespacedSecret({ namespace: ns, body: sourceSecret(ns, name, dockerConfigJson({ [registry]: { username: USERNAME, password: PASSWORD } })) });
    cleanups.push(() => c.core.deleteNamespacedSecret({ namespace: ns, name }));
  }

  // Both may list what `list` reads (secrets, exports) in A, and only there.
  lister = await serviceAccount("ns-lister");
  confined = await serviceAccount("confined");
  await rbac.createNamespacedRole({
    namespace: nsA,
    body: {
      metadata: { name: "regcred-list" },
      rules: [
        { apiGroups: [""], resources: ["secrets"], verbs: ["list"] },
        { apiGroups: [GROUP], resources: [EXPORT_PLURAL], verbs: ["list"] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: nsA,
    body: {
      metadata: { name: "regcred-list" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "regcred-list" },
      subjects: [lister, confined].map((sa) => ({ kind: "ServiceAccount", name: sa.name, namespace: nsA })),
    },
  });
  // Only the lister may list namespaces (cluster-wide, as namespaces are).
  await rbac.createClusterRole({ body: { metadata: { name: clusterRole }, rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["list"] }] } });
  cleanups.push(() => rbac.deleteClusterRole({ name: clusterRole }));
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterRole },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name: lister.name, namespace: nsA }],
    },
  });
  cleanups.push(() => rbac.deleteClusterRoleBinding({ name: clusterRole }));

  // The RBAC authorizer reads bindings from an informer cache: wait until they apply.
  await eventually("the Role and ClusterRole bindings to apply", async () => {
    const seen = await Promise.all([
      statusOf(() => lister.core.listNamespace()),
      statusOf(() => lister.core.listNamespacedSecret({ namespace: nsA })),
      statusOf(() => confined.core.listNamespacedSecret({ namespace: nsA })),
    ]);
    return seen.every((s) => s === "ok") ? true : undefined;
  });
  // What the test relies on: neither may list secrets cluster-wide or in B; the confined one may not list namespaces.
  for (const sa of [lister, confined]) {
    expect(await statusOf(() => sa.core.listSecretForAllNamespaces())).toBe(403);
    expect(await statusOf(() => sa.core.listNamespacedSecret({ namespace: nsB }))).toBe(403);
  }
  expect(await statusOf(() => confined.core.listNamespace())).toBe(403);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe("regcred list -A with access to some namespaces only", () => {
  it("as cluster-admin, both secrets are listed (what the restricted users are compared with)", async () => {
    const run = await regcredCli(["list", "-A"], inject("kubeconfigPath"));
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const rows = tableRows(run.stdout);
    expect(rows.find((r) => r[1] === secretA)?.slice(0, 3)).toEqual([nsA, secretA, registryA]);
    expect(rows.find((r) => r[1] === secretB)?.slice(0, 3)).toEqual([nsB, secretB, registryB]);
    expect(run.stderr).not.toContain("you may not list");
    expectNoSecrets(run);
  });

  it("may list namespaces: lists the namespaces it can read, and names the others on stderr", async () => {
    const run = await regcredCli(["list", "-A"], lister.file);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout.split("\n")[0]?.split(/\s{3,}/)).toEqual(["NAMESPACE", "NAME", "REGISTRIES", "EXPORTED TO", "ACCESS", "COPIES", "READY", "AGE"]);
    const rows = tableRows(run.stdout);
    expect(rows.find((r) => r[1] === secretA)?.slice(0, 7)).toEqual([nsA, secretA, registryA, "-", "-", "-", "-"]);
    // Only what is in A: nothing of B, and nothing of any other namespace.
    expect(rows.every((r) => r[0] === nsA)).toBe(true);
    expect(run.stdout).not.toContain(nsB);
    expect(run.stdout).not.toContain(secretB);
    expect(run.stdout).not.toContain(registryB);

    // Warnings go to stderr, one per resource, counting every namespace but A; B is named, A is not.
    const namespaces = (await c.core.listNamespace()).items.map((n) => n.metadata?.name ?? "");
    expect(namespaces).toContain(nsB);
    for (const resource of ["secrets", EXPORT_PLURAL]) {
      const skipped = skippedIn(run.stderr, resource);
      expect(skipped, `${resource} warning in: ${run.stderr}`).toBeDefined();
      expect(skipped?.count).toBe(namespaces.length - 1);
      expect(skipped?.named).toContain(nsB);
      expect(skipped?.named).not.toContain(nsA);
    }
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(2);
    expectNoSecrets(run);
  });

  it("may not list namespaces: -A fails with the API server's refusal and why; -n A still works", async () => {
    const run = await regcredCli(["list", "-A"], confined.file);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    // Secrets and exports are listed at once: whichever refusal comes first is shown.
    const user = `system:serviceaccount:${nsA}:${confined.name}`;
    expect(run.stderr).toMatch(new RegExp(
      `^Error from server \\(Forbidden\\): (secrets|pullsecretexports\\.regcred\\.dev) is forbidden: User "${user}" cannot list resource "(secrets|pullsecretexports)" in API group "(|regcred\\.dev)" at the cluster scope\n`,
    ));
    // …and why -A did not fall back to the namespaces it can read, with what to do instead.
    expect(run.stderr.split("\n").slice(1)).toEqual([
      "regcred list -A reads namespace by namespace when it may not list cluster-wide, but the namespaces could not be listed either "
      + "(that needs permission to list namespaces); list one namespace you can read with -n NAMESPACE",
      "",
    ]);
    expectNoSecrets(run);

    const inA = await regcredCli(["list", "-n", nsA], confined.file);
    expect(inA, inA.stderr).toMatchObject({ code: 0, stderr: "" });
    const rows = tableRows(inA.stdout);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([[secretA, registryA]]);
    expectNoSecrets(inA);
  });
});
