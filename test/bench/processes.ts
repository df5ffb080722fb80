/**
 * The processes the bench measures: regcred (src/main.ts) and the baseline server, each compiled
 * with tsc to plain JavaScript and run by this Node binary as a child process, so that its RSS and
 * CPU are its own and the load generator never shares its event loop. This is how the image runs
 * regcred (`node dist/main.js`), without tsx's loader in the process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, readFileSync, closeSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, fetch } from "undici";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

export interface Build {
  /** The compiled src/main.ts. */
  regcredMain: string;
  /** The compiled test/bench/servers/baseline.ts. */
  baselineMain: string;
  seconds: number;
}

/**
 * Compiles src/main.ts and the baseline server (and what they import) with the project's tsc and
 * tsconfig into `dir`, which gets a package.json ("type": "module") and a node_modules link to the
 * repository's, so that the output resolves its packages exactly as dist/ does.
 */
export async function compile(dir: string): Promise<Build> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  const tsconfig = join(dir, "tsconfig.json");
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(REPO_ROOT, "tsconfig.json"),
    compilerOptions: { rootDir: REPO_ROOT, outDir: join(dir, "out"), sourceMap: true, incremental: false },
    files: [join(REPO_ROOT, "src/main.ts"), join(REPO_ROOT, "test/bench/servers/baseline.ts")],
    include: [],
  }));
  const started = Date.now();
  await run(process.execPath, [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", tsconfig], REPO_ROOT);
  return {
    regcredMain: join(dir, "out/src/main.js"),
    baselineMain: join(dir, "out/test/bench/servers/baseline.js"),
    seconds: (Date.now() - started) / 1000,
  };
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => { output += c.toString(); });
    child.stderr.on("data", (c: Buffer) => { output += c.toString(); });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code ?? "a signal"}:\n${output.slice(-4000)}`));
    });
  });
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
 * RSS of a bare Node.js process that has imported `modules` (none: Node alone), after a full GC:
 * the floor under regcred's own memory.
 */
export async function importFootprintMiB(modules: string[]): Promise<number> {
  const script = `${modules.map((m) => `await import(${JSON.stringify(m)});`).join("")} globalThis.gc(); process.stdout.write(String(process.memoryUsage().rss));`;
  const out = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (c: Buffer) => { text += c.toString(); });
    child.on("error", reject);
    child.on("close", (code) => { if (code === 0) resolvePromise(text); else reject(new Error(`measuring the import of ${modules.join(", ")} failed (${code ?? "signal"})`)); });
  });
  return Math.round((Number(out) / 2 ** 20) * 10) / 10;
}
