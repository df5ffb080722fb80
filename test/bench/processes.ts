/**
 * The processes the bench measures: regcred (src/main.ts) and the baseline server, each bundled
 * as `npm run build` bundles dist/main.js and run by this Node binary as a child process, so that
 * its RSS and CPU are its own and the load generator never shares its event loop. This is how the
 * image runs regcred (`node dist/main.js`), without tsx's loader in the process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { build } from "esbuild";
import { Agent, fetch } from "undici";
import { bundleOptions, REPO_ROOT } from "../../src/dev/build.js";

export { REPO_ROOT };


export interface Build {
  /** src/main.ts, as dist/main.js. */
  regcredMain: string;
  /** test/bench/servers/baseline.ts. */
  baselineMain: string;
  /** test/bench/servers/bare.ts. */
  bareMain: string;
  /** src/runtime.ts alone: everything regcred loads, without starting it. */
  runtimeModule: string;
  seconds: number;
}

/**
 * Builds src/main.ts and the baseline server into `dir` exactly as `npm run build` builds dist/
 * (src/dev/build.ts): self-contained bundles, run with nothing beside them.
 */
export async function compile(dir: string): Promise<Build> {
  const started = Date.now();
  await build(bundleOptions({
    main: join(REPO_ROOT, "src/main.ts"), runtime: join(REPO_ROOT, "src/runtime.ts"),
    baseline: join(REPO_ROOT, "test/bench/servers/baseline.ts"), bare: join(REPO_ROOT, "test/bench/servers/bare.ts"),
  }, dir));
  return {
    regcredMain: join(dir, "main.js"), runtimeModule: join(dir, "runtime.js"), baselineMain: join(dir, "baseline.js"), bareMain: join(dir, "bare.js"),
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * How the image runs regcred: the Node.js flags its ENTRYPOINT passes between the node binary and
 * dist/main.js, and the environment its ENV lines set. The bench runs regcred (and the servers it is
 * compared with) the same way.
 */
export interface ImageRuntime {
  nodeFlags: string[];
  env: Record<string, string>;
}

export function imageRuntime(dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8")): ImageRuntime {
  const lines = dockerfile.split("\n");
  const entrypoint = lines.find((l) => l.startsWith("ENTRYPOINT "));
  if (!entrypoint) throw new Error("the Dockerfile has no ENTRYPOINT");
  const argv = JSON.parse(entrypoint.slice("ENTRYPOINT ".length)) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) throw new Error("the Dockerfile's ENTRYPOINT is not a JSON array of strings");
  const main = argv.indexOf("dist/main.js");
  if (main < 1) throw new Error("the Dockerfile's ENTRYPOINT does not run dist/main.js");
  // The runtime stage's ENV lines (after its FROM), written KEY=value, space-separated.
  const runtimeStage = lines.slice(lines.map((l) => l.startsWith("FROM ")).lastIndexOf(true));
  const env: Record<string, string> = {};
  for (const line of runtimeStage.filter((l) => l.startsWith("ENV "))) {
    for (const pair of line.slice("ENV ".length).trim().split(/\s+/)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new Error(`the Dockerfile's ENV line "${line}" is not KEY=value pairs`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { nodeFlags: argv.slice(1, main), env };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => { resolvePromise(port); });
    });
  });
}

export interface ServerProcess {
  name: string;
  pid: number;
  /** https://127.0.0.1:PORT */
  url: string;
  metricsUrl: string;
  logFile: string;
  /** The exact command line, for the report. */
  command: string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

export interface SpawnOptions {
  name: string;
  main: string;
  env: Record<string, string>;
  port: number;
  metricsPort: number;
  logFile: string;
  nodeArgs?: string[];
  /** Path answered 200 once the process is ready. */
  readyPath: string;
  readyTimeoutMs?: number;
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/** Starts a server process and resolves once `readyPath` answers 200 over HTTPS. */
export async function startServerProcess(o: SpawnOptions): Promise<ServerProcess> {
  const fd = openSync(o.logFile, "a");
  const args = [...(o.nodeArgs ?? []), o.main];
  const env = { ...process.env, NODE_ENV: "production", ...o.env };
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exitedPromise = new Promise<void>((r) => child.once("exit", () => { r(); }));
  const isExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const url = `https://127.0.0.1:${o.port}`;
  const proc: ServerProcess = {
    name: o.name,
    pid: child.pid ?? -1,
    url,
    metricsUrl: `http://127.0.0.1:${o.metricsPort}/metrics`,
    logFile: o.logFile,
    command: [...Object.entries(o.env).map(([k, v]) => `${k}=${v}`), "node", ...args].join(" "),
    exited: isExited,
    async stop(graceMs = 15_000) {
      if (isExited()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => { child.kill("SIGKILL"); }, graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
  process.once("exit", () => { if (!isExited()) child.kill("SIGKILL"); });
  const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (isExited()) throw new Error(`${o.name} exited before it was ready; its log is ${o.logFile}:\n${tail(o.logFile)}`);
    try {
      const res = await fetch(`${url}${o.readyPath}`, { dispatcher: insecure });
      await res.text();
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop(1000);
      throw new Error(`${o.name} was not ready within ${o.readyTimeoutMs ?? 120_000} ms; its log is ${o.logFile}:\n${tail(o.logFile)}`);
    }
    await sleep(200);
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface Memory {
  rssMiB: number;
  /** Peak RSS of the process so far (VmHWM). */
  peakRssMiB: number;
}

/** RSS and peak RSS of a process, from /proc/PID/status. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match?.[1] ? Number(match[1]) : Number.NaN;
  };
  return { rssMiB: kb("VmRSS") / 1024, peakRssMiB: kb("VmHWM") / 1024 };
}

/** CPU time (user + system) a process has used, in seconds, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name and state.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The value of a sample in a Prometheus text exposition, summed over the series matching `labels`. */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const series = rest[0] === "{" ? parseLabels(rest.slice(1, rest.indexOf("}"))) : {};
    if (!Object.entries(labels).every(([k, v]) => series[k] === v)) continue;
    total += Number(rest.slice(rest[0] === "{" ? rest.indexOf("}") + 1 : 0).trim().split(" ")[0]);
  }
  return total;
}

export function parseLabels(inside: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of inside.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    if (m[1] !== undefined) labels[m[1]] = m[2] ?? "";
  }
  return labels;
}

export async function scrape(metricsUrl: string): Promise<string> {
  const res = await fetch(metricsUrl);
  return await res.text();
}

/**
 * RSS of a bare Node.js process (with `nodeArgs`) that has imported `modules` (none: Node alone),
 * after a full GC: the floor under regcred's own memory.
 */
export async function importFootprintMiB(modules: string[], nodeArgs: string[] = []): Promise<number> {
  const script = `${modules.map((m) => `await import(${JSON.stringify(pathToFileURL(m).href)});`).join("")} globalThis.gc(); process.stdout.write(String(process.memoryUsage().rss));`;
  const out = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, "--expose-gc", "--input-type=module", "-e", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (c: Buffer) => { text += c.toString(); });
    child.on("error", reject);
    child.on("close", (code) => { if (code === 0) resolvePromise(text); else reject(new Error(`measuring the import of ${modules.join(", ")} failed (${code ?? "signal"})`)); });
  });
  return Math.round((Number(out) / 2 ** 20) * 10) / 10;
}
