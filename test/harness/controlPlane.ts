/**
 * The test control plane: builds (once, cached by source hash) and runs `regcred-controlplane`, the Go
 * program in test/controlplane/ that serves a real kube-apiserver over an embedded etcd on loopback.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants as fsConstants, createWriteStream, mkdirSync } from "node:fs";
import type { WriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** test/controlplane/, the Go module. */
export const CONTROL_PLANE_SOURCE_DIR = resolve(import.meta.dirname, "../controlplane");

const BINARY_NAME = "regcred-controlplane";
const READY_PREFIX = "REGCRED_CONTROLPLANE_READY ";
const DEFAULT_READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 30;
const BUILD_OUTPUT_TAIL_CHARS = 8_000;

// ---------------------------------------------------------------------------------------------------
// Building the binary
// ---------------------------------------------------------------------------------------------------

/** `${XDG_CACHE_HOME:-~/.cache}/regcred`. */
export function cacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(homedir(), ".cache");
  return join(base, "regcred");
}

/** Stripped, and stamped with the release it is built from, so /version reports v1.37.2. */
const VERSION_PACKAGE = "k8s.io/component-base/version";
const LDFLAGS = ["-s", "-w", `-X ${VERSION_PACKAGE}.gitVersion=v1.37.2`, `-X ${VERSION_PACKAGE}.gitMajor=1`, `-X ${VERSION_PACKAGE}.gitMinor=37`].join(" ");

/** A short sha256 over the build flags, go.mod, go.sum and the *.go files of test/controlplane. */
async function sourceHash(): Promise<string> {
  const entries = await readdir(CONTROL_PLANE_SOURCE_DIR);
  const files = entries.filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go")).sort();
  if (!files.includes("go.mod")) {
    throw new Error(`${CONTROL_PLANE_SOURCE_DIR} has no go.mod`);
  }
  const hash = createHash("sha256").update(`${LDFLAGS}\0`);
  for (const file of files) {
    const content = await readFile(join(CONTROL_PLANE_SOURCE_DIR, file));
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex").slice(0, 16);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `go` on PATH, else /usr/local/go/bin/go. */
export function findGo(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "go");
    if (isExecutable(candidate)) return candidate;
  }
  const fallback = "/usr/local/go/bin/go";
  if (isExecutable(fallback)) return fallback;
  throw new Error(`cannot build ${BINARY_NAME}: no "go" on PATH and no ${fallback}`);
}

/** Runs `go build` into `output`; resolves when it succeeded, rejects with the tail of its output. */
function goBuild(goBin: string, output: string): Promise<void> {
  const args = ["build", "-trimpath", "-buildvcs=false", `-ldflags=${LDFLAGS}`, "-o", output, "."];
  return new Promise((resolvePromise, reject) => {
    let captured = "";
    const keep = (chunk: Buffer): void => {
      process.stderr.write(chunk);
      captured = (captured + chunk.toString("utf8")).slice(-BUILD_OUTPUT_TAIL_CHARS);
    };
    const started = Date.now();
    const child = spawn(goBin, args, { cwd: CONTROL_PLANE_SOURCE_DIR, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    // `go build` is silent while it compiles; say it is still alive so a CI log does not look hung.
    const heartbeat = setInterval(() => {
      const minutes = Math.round((Date.now() - started) / 60_000);
      console.log(`[controlplane] still building ${BINARY_NAME} (${minutes} min so far)...`);
    }, 60_000);
    heartbeat.unref();
    child.on("error", (err) => {
      clearInterval(heartbeat);
      reject(new Error(`cannot run ${goBin}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) {
        resolvePromise();
        return;
      }
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? "?"}`;
      const tail = captured.trim() === "" ? "(no output)" : captured.trimEnd();
      const command = [goBin, ...args].map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ");
      reject(new Error(`building ${BINARY_NAME} failed: ${command} ${how}; last of its output:\n${tail}`));
    });
  });
}

/**
 * The path of the `regcred-controlplane` binary for the current sources of test/controlplane,
 * `${XDG_CACHE_HOME:-~/.cache}/regcred/controlplane-<hash>/regcred-controlplane`, building it first if it
 * is not there. The build goes to a temporary name and is renamed into place, so an interrupted build
 * never leaves a binary that looks finished.
 */
export async function controlPlaneBinary(): Promise<string> {
  const dir = join(cacheRoot(), `controlplane-${await sourceHash()}`);
  const binary = join(dir, BINARY_NAME);
  if (isExecutable(binary)) return binary;

  const goBin = findGo();
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, `.${BINARY_NAME}.partial-${process.pid}-${Date.now()}`);
  console.log(
    `[controlplane] building ${binary} with ${goBin} (the first build compiles kube-apiserver and takes ` +
      `~10 minutes; later builds reuse the Go build cache)...`,
  );
  const started = Date.now();
  try {
    await goBuild(goBin, partial);
    await rename(partial, binary);
  } finally {
    await rm(partial, { force: true });
  }
  console.log(`[controlplane] built ${binary} in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

// ---------------------------------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------------------------------

export interface ControlPlane {
  /** `https://127.0.0.1:PORT`; the same across restart(). */
  server: string;
  /** A cluster-admin (system:masters) kubeconfig. */
  kubeconfigPath: string;
  dataDir: string;
  /** stdout and stderr of the control plane, appended to across restarts. */
  logFile: string;
  caCertPath: string;
  /** SIGTERM, then SIGKILL if it has not exited after 15 s. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops, waits `downMs` (default 0), starts again on the same data dir (same ports) and waits for ready. */
  restart(downMs?: number): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** Default: a fresh directory under os.tmpdir(). Reusing a directory brings the same cluster back. */
  dataDir?: string;
  /** Default: `<dataDir>/controlplane.log`. */
  logFile?: string;
  /** How long to wait for the READY line, per start. Default 120 s. */
  timeoutMs?: number;
}

interface ReadyInfo {
  server: string;
  kubeconfig: string;
  caCert: string;
  adminCert: string;
  adminKey: string;
  pid: number;
}

function parseReady(json: string): ReadyInfo {
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null) throw new Error(`READY line is not an object: ${json}`);
  const o = value as Record<string, unknown>;
  for (const key of ["server", "kubeconfig", "caCert", "adminCert", "adminKey"] as const) {
    if (typeof o[key] !== "string") throw new Error(`READY line lacks "${key}": ${json}`);
  }
  if (typeof o.pid !== "number") throw new Error(`READY line lacks "pid": ${json}`);
  return value as ReadyInfo;
}

async function logTail(logFile: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch (err) {
    return `(cannot read ${logFile}: ${(err as Error).message})`;
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolvePromise) => {
    if (stream.closed) {
      resolvePromise();
      return;
    }
    stream.end(() => {
      resolvePromise();
    });
  });
}

/** Whether the child has exited and its stdout/stderr have been drained ("close"). */
const closedChildren = new WeakSet<ChildProcess>();

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once the child has exited and its output is drained, false after `timeoutMs`. */
function waitForClose(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (closedChildren.has(child)) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      child.off("close", onClose);
      resolvePromise(false);
    }, timeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      resolvePromise(true);
    };
    child.once("close", onClose);
  });
}

/** Children still running, killed if this Node process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.once("close", () => closedChildren.add(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
}

interface Running {
  child: ChildProcess;
  log: WriteStream;
  ready: ReadyInfo;
}

/** Spawns the binary once and waits for its READY line; on failure, kills it and rejects. */
async function launch(binary: string, dataDir: string, logFile: string, timeoutMs: number): Promise<Running> {
  const log = createWriteStream(logFile, { flags: "a" });
  await new Promise<void>((resolvePromise, reject) => {
    log.once("open", () => {
      resolvePromise();
    });
    log.once("error", reject);
  });
  log.on("error", (err) => {
    console.error(`[controlplane] cannot write ${logFile}: ${err.message}`);
  });
  log.write(`--- ${new Date().toISOString()} starting ${binary} --data-dir ${dataDir}\n`);
  const child = spawn(binary, ["--data-dir", dataDir], { stdio: ["ignore", "pipe", "pipe"] });
  trackChild(child);
  child.stderr.pipe(log, { end: false });

  const fail = async (reason: string): Promise<never> => {
    if (!exited(child)) {
      child.kill("SIGKILL");
    }
    await waitForClose(child, 5_000);
    await closeStream(log);
    throw new Error(
      `regcred-controlplane ${reason}; its log is ${logFile}; last ${LOG_TAIL_LINES} lines:\n` +
        (await logTail(logFile)),
    );
  };

  const outcome = await new Promise<ReadyInfo | string>((resolvePromise) => {
    let pending = "";
    let settled = false;
    const settle = (v: ReadyInfo | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(v);
    };
    const timer = setTimeout(() => {
      settle(`was not ready within ${timeoutMs} ms`);
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      if (!log.writableEnded) log.write(chunk);
      if (settled) return;
      pending += chunk.toString("utf8");
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line.startsWith(READY_PREFIX)) {
          try {
            settle(parseReady(line.slice(READY_PREFIX.length)));
          } catch (err) {
            settle(`printed an unreadable READY line (${(err as Error).message})`);
          }
          return;
        }
      }
    });
    child.once("error", (err) => {
      settle(`could not be started (${err.message})`);
    });
    child.once("exit", (code, signal) => {
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? "?"}`;
      settle(`${how} before it was ready`);
    });
  });
  if (typeof outcome === "string") return fail(outcome);
  return { child, log, ready: outcome };
}

/** SIGTERM, SIGKILL after STOP_GRACE_MS, and close the log once the last output reached it. */
async function stopRunning(r: Running): Promise<void> {
  if (!exited(r.child)) {
    r.child.kill("SIGTERM");
    if (!(await waitForClose(r.child, STOP_GRACE_MS))) {
      r.log.write(`--- ${new Date().toISOString()} no exit ${STOP_GRACE_MS} ms after SIGTERM; sending SIGKILL\n`);
      r.child.kill("SIGKILL");
    }
  }
  // "close" comes once the process is gone and the last of its stdout/stderr reached the log.
  await waitForClose(r.child, STOP_GRACE_MS);
  r.child.stderr?.unpipe(r.log);
  const how = `exit code ${r.child.exitCode ?? "none"}, signal ${r.child.signalCode ?? "none"}`;
  r.log.write(`--- ${new Date().toISOString()} stopped (${how})\n`);
  await closeStream(r.log);
}

/**
 * Starts a control plane (building the binary first if needed) and resolves once its API server is
 * ready. Rejects, naming the log file and quoting its end, if it exits or is not ready in time.
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const binary = await controlPlaneBinary();
  const dataDir = resolve(options.dataDir ?? (await mkdtemp(join(tmpdir(), "regcred-controlplane-"))));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = resolve(options.logFile ?? join(dataDir, "controlplane.log"));
  const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  let current: Running | undefined = await launch(binary, dataDir, logFile, timeoutMs);
  let stopping: Promise<void> = Promise.resolve();

  const stop = (): Promise<void> => {
    const r = current;
    if (r !== undefined) {
      current = undefined;
      stopping = stopRunning(r);
    }
    return stopping;
  };

  const cp: ControlPlane = {
    server: current.ready.server,
    kubeconfigPath: current.ready.kubeconfig,
    dataDir,
    logFile,
    caCertPath: current.ready.caCert,
    stop,
    async restart(downMs = 0): Promise<void> {
      await stop();
      if (downMs > 0) await sleep(downMs);
      const next = await launch(binary, dataDir, logFile, timeoutMs);
      current = next;
      cp.server = next.ready.server;
      cp.kubeconfigPath = next.ready.kubeconfig;
      cp.caCertPath = next.ready.caCert;
    },
  };
  return cp;
}
