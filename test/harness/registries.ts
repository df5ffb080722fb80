/**
 * Real container registries on loopback for the write-access probe tests, all over TLS with a test
 * CA made by src/certs/authority.ts:
 *
 * - basic: the CNCF distribution registry (github.com/distribution/distribution/v3/cmd/registry,
 *   pinned in test/registries/distribution/go.mod) on plain HTTP on 127.0.0.1, behind Debian's nginx
 *   with TLS and auth_basic. Users `reader` and `writer` (bcrypt htpasswd made by Debian's
 *   apache2-utils); `limit_except GET HEAD` asks every other method for a second htpasswd file that
 *   holds only `writer`, so the reader can pull and cannot push.
 * - token: the same registry with `auth: token`, trusting (through a JWKS) the token server of the
 *   distribution project (docker/distribution v2.8.3 contrib/token-server, pinned in
 *   test/registries/token-server/go.mod). Its ACL is the one it is built with: a user is granted what
 *   it asks for on repositories under `<username>/`, and nothing elsewhere.
 *
 * The Go programs are built on first use into `${XDG_CACHE_HOME:-~/.cache}/regcred/<tool>-<version>/`
 * (a build goes to a temporary name and is renamed into place) and reused afterwards.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Agent, request } from "undici";
import { createAuthority, issueServingCertificate } from "../../src/certs/authority.js";
import { cacheRoot, isExecutable } from "./controlPlane.js";

const execFileP = promisify(execFile);
const REGISTRIES_DIR = resolve(import.meta.dirname, "../registries");
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------------

interface GoTool {
  /** Directory name prefix in the cache, e.g. "distribution". */
  tool: string;
  /** The module whose version names the cache directory. */
  module: string;
  /** The main package to build. */
  pkg: string;
  /** The Go module under test/registries/ that pins it. */
  dir: string;
  binary: string;
}

const DISTRIBUTION: GoTool = {
  tool: "distribution", module: "github.com/distribution/distribution/v3", pkg: "github.com/distribution/distribution/v3/cmd/registry",
  dir: join(REGISTRIES_DIR, "distribution"), binary: "registry",
};
const TOKEN_SERVER: GoTool = {
  tool: "token-server", module: "github.com/docker/distribution", pkg: "github.com/docker/distribution/contrib/token-server",
  dir: join(REGISTRIES_DIR, "token-server"), binary: "token-server",
};

function findOnPath(name: string, fallbacks: readonly string[]): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && isExecutable(join(dir, name))) return join(dir, name);
  }
  return fallbacks.find(isExecutable);
}

/** The pinned version of `module` in the tool's go.mod, plus a short hash of go.mod and go.sum. */
async function toolVersion(t: GoTool): Promise<string> {
  const mod = await readFile(join(t.dir, "go.mod"), "utf8");
  const sum = await readFile(join(t.dir, "go.sum"), "utf8");
  const escaped = t.module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const version = new RegExp(`^\\s*${escaped}\\s+(v\\S+)`, "m").exec(mod)?.[1]?.replace(/\+incompatible$/, "");
  if (version === undefined) throw new Error(`${t.dir}/go.mod does not require ${t.module}`);
  const hash = createHash("sha256").update(mod).update("\0").update(sum).digest("hex").slice(0, 8);
  return `${version}-${hash}`;
}

const building = new Map<string, Promise<string>>();

/** The path of a built tool, building it first if it is not in the cache. */
export function toolBinary(t: GoTool): Promise<string> {
  let p = building.get(t.tool);
  if (!p) {
    p = buildTool(t);
    building.set(t.tool, p);
  }
  return p;
}

async function buildTool(t: GoTool): Promise<string> {
  const dir = join(cacheRoot(), `${t.tool}-${await toolVersion(t)}`);
  const binary = join(dir, t.binary);
  if (isExecutable(binary)) return binary;
  const go = findOnPath("go", ["/usr/local/go/bin/go"]);
  if (go === undefined) throw new Error(`cannot build ${t.pkg}: no "go" on PATH and no /usr/local/go/bin/go`);
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `.${t.binary}.partial-${process.pid}-${Date.now()}`);
  const started = Date.now();
  console.log(`[registries] building ${t.pkg} into ${binary} (first run only; a few minutes)...`);
  try {
    await execFileP(go, ["build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", partial, t.pkg], {
      cwd: t.dir, maxBuffer: 32 * 1024 * 1024,
    });
    await rename(partial, binary);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building ${t.pkg} failed (go build in ${t.dir}): ${(e.stderr ?? e.message).slice(-6000)}`);
  } finally {
    await rm(partial, { force: true });
  }
  console.log(`[registries] built ${binary} in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/** Builds both Go tools (for a CI step or a warm-up). */
export async function buildRegistryTools(): Promise<{ registry: string; tokenServer: string }> {
  const [registry, tokenServer] = await Promise.all([toolBinary(DISTRIBUTION), toolBinary(TOKEN_SERVER)]);
  return { registry, tokenServer };
}

// ---------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => { resolvePort(port); });
    });
  });
}

const children = new Set<ChildProcess>();
let exitHook = false;

interface Service {
  name: string;
  logFile: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
}

function service(name: string, command: string, args: readonly string[], logFile: string, ready: () => Promise<boolean>, env: NodeJS.ProcessEnv = process.env): Service {
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const closed = new Promise<void>((r) => c.once("close", () => { r(); }));
    c.kill("SIGTERM");
    const done = await Promise.race([closed.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!done) {
      c.kill("SIGKILL");
      await closed;
    }
  };
  return {
    name, logFile,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop,
    async start() {
      const log = createWriteStream(logFile, { flags: "a" });
      log.write(`--- ${new Date().toISOString()} ${command} ${args.join(" ")}\n`);
      const c = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
      child = c;
      children.add(c);
      c.once("exit", () => { children.delete(c); });
      c.stdout.pipe(log, { end: false });
      c.stderr.pipe(log, { end: false });
      c.once("close", () => { log.end(); });
      if (!exitHook) {
        exitHook = true;
        process.once("exit", () => { for (const k of children) k.kill("SIGKILL"); });
      }
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline) {
        if (c.exitCode !== null || c.signalCode !== null) break;
        if (await ready().catch(() => false)) return;
        await sleep(100);
      }
      await stop();
      const tail = (await readFile(logFile, "utf8").catch(() => "")).trimEnd().split("\n").slice(-25).join("\n");
      throw new Error(`${name} did not come up within ${READY_TIMEOUT_MS} ms; its log ${logFile} ends:\n${tail}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The registries
// ---------------------------------------------------------------------------------------------------

export interface User {
  username: string;
  password: string;
}

export interface TestRegistry {
  /** host:port as a registry key, e.g. `127.0.0.1:41234`. */
  host: string;
  reader: User;
  writer: User;
  /** The registry's filesystem storage root. */
  storageDir: string;
  /** Takes the registry's front door down (nginx, or the token registry itself) and brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  logFiles: string[];
}

export interface Registries {
  caPem: string;
  /** The test CA as a file, for --registry-ca-file. */
  caFile: string;
  dir: string;
  basic: TestRegistry;
  token: TestRegistry;
  stop(): Promise<void>;
}

function findBinary(name: string, pkg: string): string {
  const found = findOnPath(name, [`/usr/sbin/${name}`, `/usr/bin/${name}`]);
  if (found === undefined) throw new Error(`no ${name} on this machine; install the Debian package ${pkg} (listed in APT_PACKAGES of .ci/run)`);
  return found;
}

async function htpasswdLine(htpasswd: string, user: User): Promise<string> {
  const { stdout } = await execFileP(htpasswd, ["-nbB", "-C", "5", user.username, user.password]);
  return stdout.trim();
}

function newUser(username: string): User {
  return { username, password: `${username}-${randomBytes(12).toString("hex")}` };
}

/** libtrust's key ID (what the token server puts in `kid`): base32 of the first 240 bits of sha256(SPKI DER), in groups of four. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const digest = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  return (out.match(/.{1,4}/g) ?? []).join(":");
}

function registryConfig(o: { addr: string; storage: string; secret: string; tls?: { cert: string; key: string }; token?: { realm: string; service: string; issuer: string; jwks: string } }): string {
  // JSON is YAML: no YAML library needed.
  return JSON.stringify({
    version: 0.1,
    log: { level: "info", accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: o.storage }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: {
      addr: o.addr, secret: o.secret, relativeurls: false,
      ...(o.tls ? { tls: { certificate: o.tls.cert, key: o.tls.key } } : {}),
    },
    ...(o.token ? { auth: { token: { realm: o.token.realm, service: o.token.service, issuer: o.token.issuer, jwks: o.token.jwks, signingalgorithms: ["ES256"] } } } : {}),
  }, null, 2);
}

function nginxConfig(o: { dir: string; port: number; upstream: number; cert: string; key: string; users: string; writers: string }): string {
  const t = (n: string): string => join(o.dir, "nginx-temp", n);
  return `
daemon off;
master_process on;
worker_processes 1;
pid ${join(o.dir, "nginx.pid")};
error_log ${join(o.dir, "nginx-error.log")} info;
events { worker_connections 256; }
http {
  access_log ${join(o.dir, "nginx-access.log")};
  client_body_temp_path ${t("body")};
  proxy_temp_path ${t("proxy")};
  fastcgi_temp_path ${t("fastcgi")};
  uwsgi_temp_path ${t("uwsgi")};
  scgi_temp_path ${t("scgi")};
  map $upstream_http_docker_distribution_api_version $docker_distribution_api_version { '' 'registry/2.0'; }
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location /v2/ {
      auth_basic "regcred test registry";
      auth_basic_user_file ${o.users};
      # Reading is for every user; every other method is for writers only.
      limit_except GET HEAD {
        auth_basic "regcred test registry (write)";
        auth_basic_user_file ${o.writers};
      }
      add_header Docker-Distribution-Api-Version $docker_distribution_api_version always;
      proxy_pass http://127.0.0.1:${o.upstream};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 300;
    }
  }
}
`;
}

/** Starts both registries (building the Go tools first if needed). Stop them with `stop()`. */
export async function startRegistries(): Promise<Registries> {
  const nginx = findBinary("nginx", "nginx");
  const htpasswd = findBinary("htpasswd", "apache2-utils");
  const { registry, tokenServer } = await buildRegistryTools();
  const dir = await mkdtemp(join(tmpdir(), "regcred-registries-"));
  // nginx's workers run as an unprivileged user when the tests run as root: let them read the config.
  chmodSync(dir, 0o755);
  const file = (name: string, content: string, mode = 0o644): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    return path;
  };

  const ca = createAuthority("regcred registries test CA");
  const serving = issueServingCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const caFile = file("ca.crt", ca.cert);
  const cert = file("tls.crt", serving.cert);
  const key = file("tls.key", serving.key);
  const agent = new Agent({ connect: { ca: ca.cert } });
  const status = async (url: string): Promise<number> => {
    const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(2_000) });
    await res.body.dump();
    return res.statusCode;
  };
  const started: Service[] = [];
  const launch = async (s: Service): Promise<Service> => {
    await s.start();
    started.push(s);
    return s;
  };
  const stopAll = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop();
    await agent.close();
    // Keep the logs for debugging; drop storage, keys and password files.
    for (const entry of await readdir(dir)) {
      if (!entry.endsWith(".log")) await rm(join(dir, entry), { recursive: true, force: true });
    }
  };

  try {
    // --- basic: distribution on plain HTTP behind nginx (TLS + auth_basic) ---------------------------
    const basicUsers = { reader: newUser("reader"), writer: newUser("writer") };
    const basicStorage = join(dir, "basic-storage");
    mkdirSync(basicStorage);
    const upstream = await freePort();
    const basicConfig = file("basic-registry.yml", registryConfig({ addr: `127.0.0.1:${upstream}`, storage: basicStorage, secret: randomBytes(16).toString("hex") }));
    const registryEnv = { ...process.env, OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none", OTEL_LOGS_EXPORTER: "none", OTEL_SDK_DISABLED: "true" };
    await launch(service("basic registry (distribution)", registry, ["serve", basicConfig], join(dir, "basic-registry.log"),
      async () => (await status(`http://127.0.0.1:${upstream}/v2/`)) === 200, registryEnv));

    const users = file("users.htpasswd", `${await htpasswdLine(htpasswd, basicUsers.reader)}\n${await htpasswdLine(htpasswd, basicUsers.writer)}\n`);
    const writers = file("writers.htpasswd", `${await htpasswdLine(htpasswd, basicUsers.writer)}\n`);
    mkdirSync(join(dir, "nginx-temp"), { mode: 0o755 });
    const basicPort = await freePort();
    const nginxConf = file("nginx.conf", nginxConfig({ dir, port: basicPort, upstream, cert, key, users, writers }));
    const front = service("nginx in front of the basic registry", nginx, ["-p", dir, "-c", nginxConf, "-e", join(dir, "nginx-error.log")], join(dir, "nginx.log"),
      async () => (await status(`https://127.0.0.1:${basicPort}/v2/`)) === 401);
    await launch(front);

    // --- token: distribution with token auth + the distribution token server -------------------------
    const tokenUsers = { reader: newUser("reader"), writer: newUser("writer") };
    const tokenStorage = join(dir, "token-storage");
    mkdirSync(tokenStorage);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signingKey = file("token-signing.key", privateKey.export({ type: "sec1", format: "pem" }).toString(), 0o600);
    const publicKey = createPublicKey(privateKey);
    const kid = libtrustKeyId(publicKey.export({ type: "spki", format: "der" }));
    const jwks = file("token-jwks.json", JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "ES256" }] }));
    const tokenPasswd = file("token.htpasswd", `${await htpasswdLine(htpasswd, tokenUsers.reader)}\n${await htpasswdLine(htpasswd, tokenUsers.writer)}\n`, 0o600);
    const tokenServerPort = await freePort();
    const realm = `https://127.0.0.1:${tokenServerPort}/token/`;
    const issuer = "regcred-test-token-server";
    await launch(service("token server (distribution contrib/token-server)", tokenServer,
      ["-addr", `127.0.0.1:${tokenServerPort}`, "-issuer", issuer, "-key", signingKey, "-passwd", tokenPasswd, "-realm", "regcred test token server", "-tlscert", cert, "-tlskey", key],
      join(dir, "token-server.log"), async () => (await status(`${realm}?service=probe`)) === 401));

    const tokenPort = await freePort();
    const tokenConfig = file("token-registry.yml", registryConfig({
      addr: `127.0.0.1:${tokenPort}`, storage: tokenStorage, secret: randomBytes(16).toString("hex"), tls: { cert, key },
      token: { realm, service: `127.0.0.1:${tokenPort}`, issuer, jwks },
    }));
    const tokenRegistry = service("token registry (distribution)", registry, ["serve", tokenConfig], join(dir, "token-registry.log"),
      async () => (await status(`https://127.0.0.1:${tokenPort}/v2/`)) === 401, registryEnv);
    await launch(tokenRegistry);

    return {
      caPem: ca.cert, caFile, dir,
      basic: {
        host: `127.0.0.1:${basicPort}`, ...basicUsers, storageDir: basicStorage,
        stop: () => front.stop(), start: () => front.start(),
        logFiles: [join(dir, "basic-registry.log"), join(dir, "nginx-access.log"), join(dir, "nginx-error.log")],
      },
      token: {
        host: `127.0.0.1:${tokenPort}`, ...tokenUsers, storageDir: tokenStorage,
        stop: () => tokenRegistry.stop(), start: () => tokenRegistry.start(),
        logFiles: [join(dir, "token-registry.log"), join(dir, "token-server.log")],
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// What a registry holds
// ---------------------------------------------------------------------------------------------------

export interface StorageState {
  /** Repositories with content: a directory that has _manifests or _layers. */
  repositories: string[];
  /** Live upload sessions: _uploads/<id> directories that still have their `startedat` or `data` (what distribution resumes). */
  uploads: string[];
  /** Files under any _uploads directory that belong to no live session. */
  leftovers: string[];
  /** Every directory and file under repositories/, relative to it. */
  directories: string[];
  files: string[];
}

/** Reads distribution's filesystem storage (docker/registry/v2/repositories/...). */
export async function storageState(storageDir: string): Promise<StorageState> {
  const root = join(storageDir, "docker", "registry", "v2", "repositories");
  const state: StorageState = { repositories: [], uploads: [], leftovers: [], directories: [], files: [] };
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (!e.isDirectory()) {
        state.files.push(path);
        continue;
      }
      state.directories.push(path);
      if ((e.name === "_manifests" || e.name === "_layers") && !state.repositories.includes(rel)) state.repositories.push(rel);
      await walk(join(dir, e.name), path);
    }
  };
  if (await stat(root).catch(() => undefined)) await walk(root, "");
  for (const f of state.files) {
    const upload = /^(.*\/_uploads\/[^/]+)\/(.+)$/.exec(f);
    if (!upload?.[1]) continue;
    const session = upload[1];
    const live = state.files.includes(`${session}/startedat`) || state.files.includes(`${session}/data`);
    if (live && !state.uploads.includes(session)) state.uploads.push(session);
    if (!live) state.leftovers.push(f);
  }
  for (const list of [state.repositories, state.uploads, state.leftovers, state.directories, state.files]) list.sort();
  return state;
}
