/**
 * The `regcred` CLI as a user runs it: a child process with --kubeconfig pointing at the real test
 * control plane, where regcred runs with its webhooks registered. Every line it prints is kept and
 * checked for credentials at the end.
 *
 * `check` is pointed only at registries on 127.0.0.1 (a tiny HTTP server that answers like a
 * basic-auth registry), allowed plain HTTP: no test traffic leaves this machine.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { ANNOTATION_INJECTED, EXPORT_PLURAL, GROUP, VERSION } from "../../src/api/names.js";
import { isReady, type PullSecretExport } from "../../src/api/types.js";
import { copyName } from "../../src/copies/naming.js";
import { runCli, type CliRun } from "../harness/cli.js";
import { clientsFor, createNamespace, eventually, getExport, pod, readSecret, uniqueName, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig, startTestRegcred, unregisterWebhooks, type TestRegcred } from "../harness/regcred.js";
import { serviceAccountKubeconfig } from "../harness/serviceAccount.js";

const SOURCE_NS = "registry-creds";
const USERNAME = "puller";
const PASSWORD = "cli-Pa55word-never-printed-7d1e";

let admin: KubeConfig;
let c: Clients;
let regcred: TestRegcred;
let kubeconfig: string;
/** Everything every run printed, to check for credentials at the end. */
const printed: string[] = [];

type Run = CliRun;

/** Runs `regcred ARGS` with the test's kubeconfig (or another, or none with null), keeping what it printed. */
async function regcredCli(args: string[], options: { stdin?: string; kubeconfig?: string | null } = {}): Promise<Run> {
  const kc = options.kubeconfig === undefined ? kubeconfig : options.kubeconfig;
  const run = await runCli(args, { ...(kc === null ? {} : { kubeconfig: kc }), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
  printed.push(run.stdout, run.stderr);
  return run;
}

async function optedInNamespace(): Promise<string> {
  const ns = uniqueName("cli-team");
  await createNamespace(c, ns);
  const run = await regcredCli(["optin", ns]);
  expect(run, run.stderr).toMatchObject({ code: 0 });
  expect(run.stdout).toContain(`namespace/${ns} opted in`);
  await eventually(`regcred to see ${ns} opted in`, () => Promise.resolve(regcred.state.namespace(ns)?.labels["regcred.dev/inject"] === "true" ? true : undefined));
  return ns;
}

/** A registry on 127.0.0.1 that asks for Basic auth and answers uploads with `uploadStatus`. */
async function fakeRegistry(uploadStatus: number): Promise<{ server: Server; host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ""} ${req.url ?? ""}`);
    if (req.method === "GET" && req.url === "/v2/") {
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake"', "docker-distribution-api-version": "registry/2.0" }).end();
    } else if (req.method === "POST" && /\/blobs\/uploads\/$/.test(req.url ?? "")) {
      res.writeHead(uploadStatus, uploadStatus === 202 ? { location: `${req.url ?? ""}upload-1` } : {}).end();
    } else if (req.method === "DELETE") {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

beforeAll(async () => {
  admin = adminKubeConfig(inject("kubeconfigPath"));
  kubeconfig = inject("kubeconfigPath");
  c = clientsFor(admin);
  regcred = await startTestRegcred(admin);
  await createNamespace(c, SOURCE_NS).catch(() => undefined);
  // A lease left by an earlier file's regcred expires after 15 s.
  await eventually("regcred to lead the controller", () => Promise.resolve(regcred.isLeader() ? true : undefined), 40_000);
});

afterAll(async () => {
  // Other test files share this control plane: leave no export behind (an Eager "*" one would copy
  // into their namespaces).
  const exports = await c.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: SOURCE_NS, plural: EXPORT_PLURAL }) as { items: PullSecretExport[] };
  for (const exp of exports.items.filter((e) => (e.metadata.name ?? "").startsWith("cli-"))) {
    await c.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: SOURCE_NS, plural: EXPORT_PLURAL, name: exp.metadata.name ?? "" }).catch(() => undefined);
  }
  await unregisterWebhooks(admin);
  await (regcred as TestRegcred | undefined)?.stop();
});

describe("regcred CLI against the real control plane", () => {
  it("create → list → export → a pod gets the secret → status → why → unexport → copies revoked", async () => {
    const name = uniqueName("cli-creds");
    const registry = `${name}.example.com`;
    const copy = copyName(SOURCE_NS, name);

    const created = await regcredCli(["create", name, "-n", SOURCE_NS, "--server", `https://${registry}/`, "--username", USERNAME, "--password-stdin", "--declare-read-only"], { stdin: `${PASSWORD}\n` });
    expect(created, created.stderr).toMatchObject({ code: 0 });
    expect(created.stdout).toBe(`secret/${name} created\n`);
    const secret = await readSecret(c, SOURCE_NS, name);
    expect(secret?.type).toBe("kubernetes.io/dockerconfigjson");
    const config = JSON.parse(Buffer.from(secret?.data?.[".dockerconfigjson"] ?? "", "base64").toString()) as { auths: Record<string, { username: string; password: string; auth: string }> };
    // The trailing newline of stdin is not part of the password; the key is stored without scheme.
    expect(config.auths[registry]).toEqual({ username: USERNAME, password: PASSWORD, auth: Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64") });

    const listed = await regcredCli(["list", "-n", SOURCE_NS]);
    expect(listed.code).toBe(0);
    const header = listed.stdout.split("\n")[0] ?? "";
    expect(header.split(/\s{3,}/)).toEqual(["NAME", "REGISTRIES", "EXPORTED TO", "ACCESS", "COPIES", "READY", "AGE"]);
    const row = listed.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
    expect(row.split(/\s{3,}/).slice(0, 6)).toEqual([name, registry, "-", "-", "-", "-"]);

    const ns = await optedInNamespace();
    const exported = await regcredCli(["export", name, "-n", SOURCE_NS, "--to-namespaces", ns]);
    expect(exported, exported.stderr).toMatchObject({ code: 0 });
    expect(exported.stdout).toContain(`pullsecretexport.regcred.dev/${name} created`);
    await eventually(`export ${name} to be Ready`, async () => (isReady(await getExport(c, SOURCE_NS, name)) ? true : undefined));
    await eventually(`regcred to admit with ${name}`, () => Promise.resolve(regcred.state.admissibleExports().some((e) => e.name === name) ? true : undefined));

    const all = await regcredCli(["list", "-A", "-o", "json"]);
    expect(all.code).toBe(0);
    const item = (JSON.parse(all.stdout) as { items: { namespace: string; name: string; exportedTo: string; ready: string; registries: string[]; access?: { verdict: string } }[] }).items
      .find((i) => i.namespace === SOURCE_NS && i.name === name);
    expect(item).toMatchObject({ exportedTo: ns, ready: "True", registries: [registry], access: { verdict: "ReadOnly" } });

    const stored = await c.core.createNamespacedPod({ namespace: ns, body: pod("app", [`${registry}/team/app:1.0`]) });
    expect(stored.spec?.imagePullSecrets).toEqual([{ name: copy }]);
    expect(stored.metadata?.annotations?.[ANNOTATION_INJECTED]).toBe(copy);
    await c.core.createNamespacedPod({ namespace: ns, body: pod("elsewhere", ["quay.io/someone/else:1"]) });

    const status = await eventually("status to show the copy", async () => {
      const run = await regcredCli(["status", name, "-n", SOURCE_NS]);
      return run.code === 0 && run.stdout.includes(`${ns}   ${copy}   current`) ? run : undefined;
    }, 30_000, 500);
    expect(status.stdout).toMatch(/Ready\s+True\s+\w+/);
    expect(status.stdout).toContain(`Export:       to ${ns}; provisioning OnDemand, onRevoke Delete`);
    expect(status.stdout).toContain("CopyCreated");
    const statusJson = JSON.parse((await regcredCli(["status", name, "-n", SOURCE_NS, "-o", "json"])).stdout) as { copies: unknown[]; export: { conditions: { type: string; status: string }[] } };
    expect(statusJson.copies).toEqual([{ namespace: ns, name: copy, state: "current" }]);
    expect(statusJson.export.conditions).toContainEqual(expect.objectContaining({ type: "Ready", status: "True" }));

    const why = await regcredCli(["why", "app", "-n", ns]);
    expect(why, why.stderr).toMatchObject({ code: 0 });
    expect(why.stdout).toContain(`✓ ${ns} opted in (annotation regcred.dev/inject="true")`);
    expect(why.stdout).toContain(`${SOURCE_NS}/${name}  → ${copy}`);
    expect(why.stdout).toContain(`✓ a registry key matches: ${registry} ← ${registry}/team/app:1.0`);
    expect(why.stdout).toContain(`✓ copy ${copy} in ${ns} holds the source's current data`);
    expect(why.stdout).toContain("✓ its namespaceSelector selects");
    expect(why.stdout).toMatch(/✓ caBundle matches the certificate served at https:\/\/127\.0\.0\.1:\d+ \(verified with a TLS handshake\)/);
    expect(why.stdout).toContain(`Pod ${ns}/app got ${copy} from regcred at admission`);
    const whyJson = JSON.parse((await regcredCli(["why", "app", "-n", ns, "-o", "json"])).stdout) as { injected: string[]; wouldInject: string[] };
    expect(whyJson).toMatchObject({ injected: [copy], wouldInject: [copy] });

    const whyNot = await regcredCli(["why", "elsewhere", "-n", ns]);
    expect(whyNot.code).toBe(0);
    expect(whyNot.stdout).toContain(`✗ no registry key (${registry}) matches an image of the pod`);
    expect(whyNot.stdout).toContain(`Pod ${ns}/elsewhere got no credentials from regcred, because no export that targets the namespace is Ready with a registry key matching its images`);

    const unexported = await regcredCli(["unexport", name, "-n", SOURCE_NS]);
    expect(unexported, unexported.stderr).toMatchObject({ code: 0 });
    expect(unexported.stdout).toContain(`pullsecretexport.regcred.dev/${name} deleted; regcred revokes its 1 copies`);
    await eventually("the copy to be revoked", async () => ((await readSecret(c, ns, copy)) === undefined ? true : undefined), 30_000);
    const after = JSON.parse((await regcredCli(["status", name, "-n", SOURCE_NS, "-o", "json"])).stdout) as { copies: unknown[]; export?: unknown; source: { found: boolean } };
    expect(after).toMatchObject({ copies: [], source: { found: true } });
    expect(after.export).toBeUndefined();
    expect(await readSecret(c, SOURCE_NS, name)).toBeDefined();

    const again = await regcredCli(["unexport", name, "-n", SOURCE_NS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Error from server (NotFound)");
  });

  it("creates and exports in one step with --password-file, and explains a namespace that did not opt in", async () => {
    const name = uniqueName("cli-one");
    const registry = `${name}.example.com`;
    const dir = mkdtempSync(join(tmpdir(), "regcred-cli-"));
    writeFileSync(join(dir, "password"), `${PASSWORD}\r\n`, { mode: 0o600 });
    const run = await regcredCli(["create", name, "-n", SOURCE_NS, "--server", registry, "--username", USERNAME, "--password-file", join(dir, "password"), "--export", "--to-namespaces", "*", "--eager"]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toBe(`secret/${name} created\npullsecretexport.regcred.dev/${name} created\n`);
    // DeclaredOnly and no declaration: admitted with regcred's warning, passed on as kubectl does.
    expect(run.stderr).toContain("Warning: regcred: read-only access of");
    expect((await getExport(c, SOURCE_NS, name)).spec).toMatchObject({ toNamespaces: ["*"], provisioning: "Eager" });

    const plain = uniqueName("cli-plain");
    await createNamespace(c, plain);
    await c.core.createNamespacedPod({ namespace: plain, body: pod("app", [`${registry}/x:1`]) });
    const why = await regcredCli(["why", "app", "-n", plain]);
    expect(why.code).toBe(0);
    expect(why.stdout).toContain(`✗ ${plain} did not opt in (no regcred.dev/inject annotation or label); run: regcred optin ${plain}`);
    expect(why.stdout).toContain(`Pod ${plain}/app got no credentials from regcred, because namespace ${plain} did not opt in`);

    const out = await regcredCli(["optout", plain]);
    expect(out.stdout).toContain(`namespace/${plain} opted out`);
    const ns = await c.core.readNamespace({ name: plain });
    expect(ns.metadata?.annotations?.["regcred.dev/inject"]).toBe("false");
    // An Eager export to "*" would copy into every other test's namespaces.
    expect((await regcredCli(["unexport", name, "-n", SOURCE_NS])).code).toBe(0);
  });

  it("deletes the secret again when its export is refused, and says why", async () => {
    const ns = uniqueName("cli-tenant");
    await createNamespace(c, ns);
    const name = uniqueName("cli-refused");
    const run = await regcredCli(["create", name, "-n", ns, "--server", `${name}.example.com`, "--username", USERNAME, "--password-stdin", "--export"], { stdin: PASSWORD });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Error from server (Forbidden): admission webhook "exports.regcred.dev" denied the request: regcred: exports to "*" (all namespaces) are allowed only from');
    expect(run.stderr).toContain(`secret/${name} was deleted again; nothing was left behind`);
    expect(await readSecret(c, ns, name)).toBeUndefined();
  });

  describe("bad input gives a clear message and a non-zero exit", () => {
    it("a missing password", async () => {
      const run = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", "r.example.com", "--username", USERNAME]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("error: create: no password given: pass --password-stdin (and pipe it in) or --password-file FILE");
      const empty = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", "r.example.com", "--username", USERNAME, "--password-stdin"], { stdin: "" });
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain("standard input was empty");
      const noFile = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", "r.example.com", "--username", USERNAME, "--password-file", "/nonexistent/pw"]);
      expect(noFile.code).toBe(2);
      expect(noFile.stderr).toContain("--password-file /nonexistent/pw cannot be read (ENOENT)");
    });

    it("an unknown namespace", async () => {
      const ns = uniqueName("nowhere");
      const run = await regcredCli(["create", "x", "-n", ns, "--server", "r.example.com", "--username", USERNAME, "--password-stdin"], { stdin: PASSWORD });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`Error from server (NotFound): namespaces "${ns}" not found\n`);
      const optin = await regcredCli(["optin", ns]);
      expect(optin.code).toBe(1);
      expect(optin.stderr).toContain(`namespaces "${ns}" not found`);
    });

    it("a malformed server URL", async () => {
      for (const [server, why] of [["ftp://r.example.com", "the scheme must be https://"], ["r example.com", "it contains spaces"], ["https://u:p@r.example.com", "must not contain a user name or password"], ["r_x.example.com", "the host must be a DNS name"], ["r.example.com:99999", "port"]] as const) {
        const run = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", server, "--username", USERNAME, "--password-stdin"], { stdin: PASSWORD });
        expect(run.code, server).toBe(2);
        expect(run.stderr, server).toContain("is not valid");
        expect(run.stderr, server).toContain(why);
      }
    });

    it("a password as a plain argument is refused, or taken with a warning when insisted on, and never printed", async () => {
      const refused = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", "r.example.com", "--username", USERNAME, "--password", PASSWORD]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("--password is refused");
      // A password typed where an argument goes is not echoed back either.
      const stray = await regcredCli(["create", "x", PASSWORD, "-n", SOURCE_NS]);
      expect(stray.code).toBe(2);
      expect(stray.stderr).toContain("create takes NAME only, but 2 were given");
      const unknownFlag = await regcredCli(["create", "x", `--pasword=${PASSWORD}`]);
      expect(unknownFlag.code).toBe(2);
      expect(unknownFlag.stderr).toContain("unknown flag --pasword");

      const name = uniqueName("cli-insist");
      const insisted = await regcredCli(["create", name, "-n", SOURCE_NS, "--server", `${name}.example.com`, "--username", USERNAME, "--insecure-password", PASSWORD, "-o", "yaml"]);
      expect(insisted, insisted.stderr).toMatchObject({ code: 0 });
      expect(insisted.stderr).toContain("Warning: --insecure-password puts the password in your shell history");
      expect(insisted.stdout).toContain(`name: ${name}`);
    });

    it("unknown commands, flags and objects; --help on every command", async () => {
      const unknown = await regcredCli(["frobnicate"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
      const badOutput = await regcredCli(["list", "-o", "xml"]);
      expect(badOutput.code).toBe(2);
      expect(badOutput.stderr).toContain("--output must be table, json or yaml");
      const both = await regcredCli(["list", "-A", "-n", SOURCE_NS]);
      expect(both.code).toBe(2);
      const missing = await regcredCli(["status", uniqueName("missing"), "-n", SOURCE_NS]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("Error from server (NotFound)");
      const noPod = await regcredCli(["why", "nopod", "-n", SOURCE_NS]);
      expect(noPod.code).toBe(1);
      expect(noPod.stderr).toBe('Error from server (NotFound): pods "nopod" not found\n');
      const noCluster = await regcredCli(["list"], { kubeconfig: null });
      expect(noCluster.code).toBe(2);
      expect(noCluster.stderr).toMatch(/no cluster is configured|the kubeconfig cannot be read/);
      const badSelector = await regcredCli(["export", "x", "-n", SOURCE_NS, "--selector", "a in b"]);
      expect(badSelector.code).toBe(2);
      expect(badSelector.stderr).toContain("--selector: cannot read");

      const top = await regcredCli(["--help"], { kubeconfig: null });
      expect(top.code).toBe(0);
      const commands = ["create", "export", "unexport", "list", "status", "check", "why", "optin", "optout", "ui"];
      for (const cmd of commands) expect(top.stdout).toContain(`  ${cmd} `);
      const helps = await Promise.all(commands.map((cmd) => regcredCli([cmd, "--help"], { kubeconfig: null })));
      helps.forEach((run, i) => {
        expect(run.code, commands[i]).toBe(0);
        expect(run.stdout, commands[i]).toContain(`Usage: regcred ${commands[i] ?? ""}`);
        expect(run.stdout, commands[i]).toContain("--kubeconfig FILE");
      });
    });

    it("what RBAC refuses is shown as the API server said it", async () => {
      const nobody = await serviceAccountKubeconfig(admin, SOURCE_NS, uniqueName("nobody"));
      const file = join(mkdtempSync(join(tmpdir(), "regcred-cli-")), "kubeconfig");
      writeFileSync(file, nobody.exportConfig(), { mode: 0o600 });
      const run = await regcredCli(["list", "-n", SOURCE_NS], { kubeconfig: file });
      expect(run.code).toBe(1);
      // Secrets and exports are listed at once: whichever refusal comes first is shown.
      expect(run.stderr).toMatch(/^Error from server \(Forbidden\): (secrets|pullsecretexports\.regcred\.dev) is forbidden: User "system:serviceaccount:registry-creds:nobody-[^"]+" cannot list resource "(secrets|pullsecretexports)"/);
      const create = await regcredCli(["create", "x", "-n", SOURCE_NS, "--server", "r.example.com", "--username", USERNAME, "--password-stdin"], { stdin: PASSWORD, kubeconfig: file });
      expect(create.code).toBe(1);
      expect(create.stderr).toContain("cannot create resource \"secrets\"");
    });
  });

  describe("check runs the write-access probe from the client", () => {
    let readOnly: Awaited<ReturnType<typeof fakeRegistry>>;
    let writable: Awaited<ReturnType<typeof fakeRegistry>>;

    beforeAll(async () => {
      readOnly = await fakeRegistry(401);
      writable = await fakeRegistry(202);
    });

    afterAll(async () => {
      await Promise.all([readOnly, writable].map((r) => new Promise((ok) => r.server.close(ok))));
    });

    async function source(host: string): Promise<string> {
      const name = uniqueName("cli-check");
      const run = await regcredCli(["create", name, "-n", SOURCE_NS, "--server", host, "--username", USERNAME, "--password-stdin"], { stdin: PASSWORD });
      expect(run, run.stderr).toMatchObject({ code: 0 });
      return name;
    }

    it("read-only credentials: the upload is refused", async () => {
      const name = await source(readOnly.host);
      const run = await regcredCli(["check", name, "-n", SOURCE_NS, "--plain-http-registries", readOnly.host, "--timeout", "5s"]);
      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(run.stdout).toContain("Verdict:      ReadOnly");
      expect(run.stdout).toContain("Method:       upload (started a blob upload and cancelled it)");
      expect(run.stdout).toContain(`Repository:   ${USERNAME}/regcred-probe`);
      expect(readOnly.requests).toContain(`POST /v2/${USERNAME}/regcred-probe/blobs/uploads/`);
    });

    it("writable credentials: exit 3, and the upload it started is cancelled", async () => {
      const name = await source(writable.host);
      const run = await regcredCli(["check", name, "-n", SOURCE_NS, "--plain-http-registries", writable.host, "--repositories", "team/app", "-o", "json"]);
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({ verdict: "Writable", method: "upload", registry: writable.host, repository: "team/app" });
      expect(writable.requests).toContain("POST /v2/team/app/blobs/uploads/");
      expect(writable.requests).toContain("DELETE /v2/team/app/blobs/uploads/upload-1");
    });

    it("a registry that cannot be reached: Unknown with the reason, exit 4", async () => {
      const down = await fakeRegistry(401);
      const host = down.host;
      await new Promise((ok) => down.server.close(ok));
      const name = await source(host);
      const run = await regcredCli(["check", name, "-n", SOURCE_NS, "--plain-http-registries", host, "--timeout", "5s"]);
      expect(run.code).toBe(4);
      expect(run.stdout).toContain("Verdict:      Unknown");
      expect(run.stdout).toContain("the connection was refused");
      // Plain HTTP is used only where allowed: without the flag it is HTTPS, which this server does not speak.
      const https = await regcredCli(["check", name, "-n", SOURCE_NS, "--timeout", "3s"]);
      expect(https.code).toBe(4);
    });
  });

  afterAll(() => {
    // Nothing the CLI printed, in any test, holds the password in any form.
    const all = printed.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    for (const form of [PASSWORD, Buffer.from(PASSWORD).toString("base64"), Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")]) {
      expect(all).not.toContain(form);
    }
    // A credential-shaped key with a value (an error message may name the "auth" field in words).
    expect(all).not.toMatch(/"auth"\s*:|\.dockerconfigjson"?\s*:\s*\S/);
  });
});
