/**
 * `regcred check` against a real token-auth registry: CNCF distribution with `auth: token`, trusting
 * the distribution project's contrib/token-server (test/harness/registries.ts), both on 127.0.0.1
 * over TLS with a test CA. The CLI runs as a child process with the admin kubeconfig, reads a
 * registry secret that `regcred create` stored, and asks the token server for
 * `repository:<repo>:pull,push` (the token-scope probe).
 *
 * What the token server grants (its built-in ACL, contrib/token-server filterAccessList): a user
 * gets every action it asks for on repositories under `<username>/`, and nothing elsewhere. So the
 * harness's `reader` is not read-only everywhere: it can push to `reader/...`, and only a repository
 * outside its namespace shows it cannot. A refused login (HTTP 401 from the token server) is
 * ReadOnly too: credentials the token service does not take cannot push either.
 *
 * The registry itself is only pinged (`GET /v2/`): the probe reads the token's `access` claim and
 * writes nothing, which the storage comparison at the end checks.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, type CliRun } from "../harness/cli.js";
import { clientsFor, createNamespace, uniqueName, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig } from "../harness/regcred.js";
import { startRegistries, storageState, type Registries, type StorageState, type User } from "../harness/registries.js";


let c: Clients;
let kubeconfig: string;
let regs: Registries;
let ns: string;
let storageBefore: StorageState;
/** Everything every run printed, to check for credentials at the end. */
const printed: string[] = [];

type Run = CliRun;

interface CheckJson {
  namespace: string;
  name: string;
  verdict: string;
  method: string;
  registry?: string;
  repository?: string;
  message: string;
}

/** Runs `regcred ARGS` with the admin kubeconfig, keeping what it printed. */
async function regcredCli(args: string[], options: { stdin?: string } = {}): Promise<Run> {
  const run = await runCli(args, { kubeconfig, ...options });
  printed.push(run.stdout, run.stderr);
  return run;
}

/** `regcred create` of a secret for the token registry with `user`'s username and `password`. */
async function tokenSecret(user: User, password = user.password): Promise<string> {
  const name = uniqueName(`cli-token-${user.username}`);
  const run = await regcredCli(["create", name, "-n", ns, "--server", regs.token.host, "--username", user.username, "--password-stdin"], { stdin: `${password}\n` });
  expect(run, run.stderr).toMatchObject({ code: 0, stdout: `secret/${name} created\n` });
  return name;
}

/** `regcred check NAME` against the token registry, trusting the test CA. */
function check(name: string, extra: string[] = []): Promise<Run> {
  return regcredCli(["check", name, "-n", ns, "--registry-ca-file", regs.caFile, "--timeout", "10s", ...extra]);
}

const TOKEN_SCOPE = "Method:       token-scope (asked the token service for pull,push and read what it granted)";

beforeAll(async () => {
  regs = await startRegistries();
  storageBefore = await storageState(regs.token.storageDir);
  kubeconfig = inject("kubeconfigPath");
  c = clientsFor(adminKubeConfig(kubeconfig));
  ns = uniqueName("cli-token");
  await createNamespace(c, ns);
}, 900_000);

afterAll(async () => {
  await (regs as Registries | undefined)?.stop();
});

describe("regcred check against a real token-auth registry (token-scope probe)", () => {
  it("a token that grants push on the checked repository: Writable, exit 3", async () => {
    const name = await tokenSecret(regs.token.reader);
    const run = await check(name, ["--repositories", "reader/app"]);
    expect(run, run.stderr).toMatchObject({ code: 3, stderr: "" });
    expect(run.stdout).toBe([
      `Secret:       ${ns}/${name}`,
      "Verdict:      Writable",
      TOKEN_SCOPE,
      `Registry:     ${regs.token.host}`,
      "Repository:   reader/app",
      "Found:        the token service granted pull,push on reader/app when asked for pull,push",
      "",
    ].join("\n"));

    const json = await check(name, ["--repositories", "reader/app", "-o", "json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({
      namespace: ns, name, verdict: "Writable", method: "token-scope", registry: regs.token.host, repository: "reader/app",
      message: "the token service granted pull,push on reader/app when asked for pull,push",
    } satisfies CheckJson);
  });

  it("without --repositories (and no export) the derived <username>/regcred-probe is checked: the token server grants push there, so Writable", async () => {
    // The derived repository is the namespace a personal account owns: exactly where this token
    // server grants everything, so even the harness's "reader" is caught as writable.
    const name = await tokenSecret(regs.token.reader);
    const run = await check(name, ["-o", "json"]);
    expect(run, run.stderr).toMatchObject({ code: 3 });
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: "Writable", method: "token-scope", registry: regs.token.host, repository: "reader/regcred-probe" });
  });

  it("a repository outside <username>/: the token server grants nothing there, so ReadOnly, exit 0", async () => {
    // filterAccessList drops the requested access for a repository not under `<username>/` and
    // still issues a (signed) token with an empty `access` claim: the probe reads "granted nothing"
    // as proof the credentials cannot push there. ReadOnly, not Unknown.
    const reader = await tokenSecret(regs.token.reader);
    const shared = await check(reader, ["--repositories", "shared/app"]);
    expect(shared, shared.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(shared.stdout).toContain("Verdict:      ReadOnly");
    expect(shared.stdout).toContain(TOKEN_SCOPE);
    expect(shared.stdout).toContain("Repository:   shared/app");
    expect(shared.stdout).toContain(`Found:        proven read-only by token-scope on ${regs.token.host}/shared/app: the token service granted nothing on shared/app when asked for pull,push`);

    // Another user's namespace is outside too: the writer cannot push to reader/app.
    const writer = await tokenSecret(regs.token.writer);
    const other = await check(writer, ["--repositories", "reader/app", "-o", "json"]);
    expect(other, other.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(other.stdout)).toMatchObject({ verdict: "ReadOnly", method: "token-scope", registry: regs.token.host, repository: "reader/app" });
    // A name that only starts with the username is not under `<username>/` either.
    const prefix = await check(writer, ["--repositories", "writerx/app", "-o", "json"]);
    expect(prefix.code).toBe(0);
    expect(JSON.parse(prefix.stdout)).toMatchObject({ verdict: "ReadOnly", repository: "writerx/app" });
  });

  it("several repositories: Writable as soon as one of them grants push, naming that one", async () => {
    const name = await tokenSecret(regs.token.writer);
    const run = await check(name, ["--repositories", "shared/app,writer/app", "-o", "json"]);
    expect(run, run.stderr).toMatchObject({ code: 3 });
    expect(JSON.parse(run.stdout)).toMatchObject({ verdict: "Writable", method: "token-scope", repository: "writer/app" });
    const none = await check(name, ["--repositories", "shared/app,reader/app", "-o", "json"]);
    expect(none.code).toBe(0);
    const body = JSON.parse(none.stdout) as CheckJson;
    expect(body).toMatchObject({ verdict: "ReadOnly", method: "token-scope", registry: regs.token.host });
    // One verdict for two repositories: no single repository is named, the message names both.
    expect(body.repository).toBeUndefined();
    expect(body.message).toBe(`proven read-only by token-scope on ${regs.token.host}/shared/app, ${regs.token.host}/reader/app: the token service granted nothing on shared/app when asked for pull,push; the token service granted nothing on reader/app when asked for pull,push`);
  });

  it("a password the token server refuses (HTTP 401): ReadOnly, because credentials it does not take cannot push", async () => {
    const name = await tokenSecret(regs.token.writer, `${regs.token.writer.password}-wrong`);
    const run = await check(name, ["--repositories", "writer/app"]);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toContain("Verdict:      ReadOnly");
    expect(run.stdout).toContain(TOKEN_SCOPE);
    expect(run.stdout).toContain("the token service refused these credentials (HTTP 401), so they cannot push to writer/app");
  });

  it("without --registry-ca-file the registry's private CA is not trusted: Unknown, exit 4, and the message names the flag", async () => {
    const name = await tokenSecret(regs.token.writer);
    const run = await regcredCli(["check", name, "-n", ns, "--repositories", "writer/app", "--timeout", "3s"]);
    expect(run, run.stderr).toMatchObject({ code: 4 });
    expect(run.stdout).toContain("Verdict:      Unknown");
    expect(run.stdout).toContain("Method:       none (no probe could answer)");
    expect(run.stdout).toContain(`could not check ${regs.token.host}: GET /v2/ failed: TLS failed (`);
    expect(run.stdout).toContain("add that CA to --registry-ca-file");
  });

  afterAll(async () => {
    // Nothing the CLI printed holds a password (in any form) or a token.
    const all = printed.join("\n");
    expect(all.length).toBeGreaterThan(500);
    for (const u of [regs.token.reader, regs.token.writer]) {
      for (const form of [u.password, Buffer.from(u.password).toString("base64"), Buffer.from(`${u.username}:${u.password}`).toString("base64")]) {
        expect(all).not.toContain(form);
      }
    }
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(all).not.toMatch(/Bearer|"auth"\s*:|"token"\s*:|access_token/);
    // The token-scope probe wrote nothing to the registry.
    expect(await storageState(regs.token.storageDir)).toEqual(storageBefore);
  });
});
