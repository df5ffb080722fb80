/**
 * regcred's benchmark (issue 7): admission latency and throughput against a no-op baseline on the
 * same serving stack, API requests per warm admission counted by the API server, Eager fan-out and
 * rotation over many namespaces, and regcred's memory with large caches. Everything runs against a
 * real kube-apiserver (test/harness/controlPlane.ts) on 127.0.0.1; regcred and the baseline run as
 * child processes; autocannon runs here.
 *
 * `runBench` returns the figures as a BenchReport; report.ts renders it. main.ts is the CLI.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { Agent, fetch } from "undici";
import { LABEL_EXPORT, LABEL_EXPORT_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../src/api/names.js";
import { isReady, type PullSecretExport } from "../../src/api/types.js";
import { loadSettings } from "../../src/config/settings.js";
import { copyName } from "../../src/copies/naming.js";
import { applyCrd } from "../../src/install/crd.js";
import { applyRbac, loadRbacRules } from "../../src/install/rbac.js";
import { startControlPlane, type ControlPlane } from "../harness/controlPlane.js";
import { clientsFor, eventually, type Clients } from "../harness/fixtures.js";
import { adminKubeConfig, REGCRED_NAMESPACE, registerWebhooks, testCertificates, unregisterWebhooks } from "../harness/regcred.js";
import { serviceAccountKubeconfig } from "../harness/serviceAccount.js";
import { admissionReview, defaultedPod } from "./admissionReview.js";
import { ApiServerMetrics, diff, total, type RequestCounts } from "./apiserverMetrics.js";
import { countAll, CopyWatch, createOptedInNamespaces, createSourceAndExport, credentials, eachLimited, listExports, retrying } from "./cluster.js";
import { runLoad, type LoadResult } from "./load.js";
import { cpuWindow, loadAverage, machineInfo, round2, type CpuWindow, type MachineInfo } from "./machine.js";
import { compile, cpuSecondsOf, freePort, imageRuntime, importFootprintMiB, memoryOf, promValue, scrape, startServerProcess, type Memory, type ServerProcess } from "./processes.js";

export interface Sizes {
  /** Concurrent keep-alive connections of the load generator. */
  connections: number;
  warmupSeconds: number;
  /** Length of each measured run of (a) and of (b). */
  roundSeconds: number;
  /** Measured rounds; each runs (a) and (b), in alternating order. */
  rounds: number;
  /** Exports Ready while admission is measured (one matches the pod's image). */
  admissionExports: number;
  /** Cold-path admissions, each into a namespace without the copy. */
  coldRequests: number;
  fanoutNamespaces: number;
  /** totals: bring the cluster to these numbers; add: add these to what is there (smoke runs on a shared cluster). */
  memory: { mode: "total" | "add"; namespaces: number; exports: number; copies: number };
  memorySampleSeconds: number;
}

export const FULL_SIZES: Sizes = {
  connections: 32, warmupSeconds: 3, roundSeconds: 10, rounds: 5, admissionExports: 5,
  coldRequests: 2000, fanoutNamespaces: 1000,
  memory: { mode: "total", namespaces: 5000, exports: 200, copies: 5000 }, memorySampleSeconds: 10,
};

export const SMOKE_SIZES: Sizes = {
  connections: 4, warmupSeconds: 0.3, roundSeconds: 1, rounds: 1, admissionExports: 2,
  coldRequests: 6, fanoutNamespaces: 5,
  memory: { mode: "add", namespaces: 6, exports: 3, copies: 6 }, memorySampleSeconds: 1,
};

export interface BenchOptions {
  smoke: boolean;
  sizes?: Sizes;
  /** Use this cluster (a cluster-admin kubeconfig) instead of starting a control plane. */
  kubeconfigPath?: string;
  /** Run regcred with --cpu-prof; profiles land in the work directory. */
  cpuProf?: boolean;
  /** Default: a new directory under the system's temporary directory. */
  workDir?: string;
  log?: (line: string) => void;
}

export interface Ratio { requestsPerSecond: number; p99: number; ofMedians: { requestsPerSecond: number; p99: number } }

/** One round of the admission runs: each server loaded in turn with the same body. */
export interface Round { bare: ServerRun; baseline: ServerRun; warm: ServerRun; answer: ServerRun }

export interface ServerRun extends LoadResult {
  /** CPU cores the server process used during the run. */
  serverCores: number;
  cpu: CpuWindow;
}

export interface Summary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface FreshMemory extends Memory {
  nodeArgs: string[];
  atReadyMiB: number;
  samplesMiB: number[];
  heapUsedMiB: number;
  /** V8's committed heap, and of it the young generation (new space). */
  heapTotalMiB: number;
  newSpaceMiB: number;
  startSeconds: number;
}


export interface BenchReport {
  smoke: boolean;
  date: string;
  durationSeconds: number;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  commands: { bench: string; regcred: string; baseline: string; controlPlane: string; compile: string; imageFlags: string };
  workDir: string;
  sizes: Sizes;
  regcredSettings: Record<string, string>;
  admission: {
    connections: number;
    bodyBytes: number;
    rounds: Round[];
    baseline: Summary;
    warm: Summary;
    /** (a') the baseline stack answering with regcred's warm answer (patch and warning) instead of a bare allowed. */
    answer: Summary;
    /** (a0) the floor: node:https and JSON.parse alone (test/bench/servers/bare.ts). */
    bare: Summary;
    answerBytes: number;
    /** warm ÷ baseline, of the medians over rounds. */
    /**
     * warm ÷ baseline: the median over rounds of each round's ratio (a round runs them back to
     * back, so drift of the machine between rounds cancels), and the ratio of the medians.
     */
    ratio: Ratio;
    /** (a) and (b) again with the smallest pod: shows how much of the cost is the body. */
    minimal: { bodyBytes: number; rounds: { baseline: ServerRun; warm: ServerRun }[]; baseline: Summary; warm: Summary; ratio: Ratio };
    /** regcred's own counters over the warm runs: every answer carried a patch, no copy was written. */
    warmPatched: number;
    warmCopyWrites: number;
    cold: ServerRun & { copiesCreated: number; copyWriteResults: Record<string, number>; apiRequests: RequestCounts };
  };
  /**
   * apiRequests: everything but WATCH; watchRenewals: the informers' watches, which client-node's
   * Watch ends after 30 s without an event and the informer opens again, admissions or not;
   * otherClients: requests on resources regcred's RBAC does not allow it (the API server's own controllers).
   */
  warmApiRequests: { admissions: number; apiRequests: number; perAdmission: number; breakdown: RequestCounts; watchRenewals: number; otherClients: number };
  fanout: {
    namespaces: number;
    createSeconds: number;
    createApiRequests: number;
    createBreakdown: RequestCounts;
    rotationSeconds: number;
    rotationApiRequests: number;
    rotationBreakdown: RequestCounts;
  };
  memory: {
    namespaces: number;
    exports: number;
    copies: number;
    /** The regcred that ran every scenario before, once they are over. */
    afterLoad: Memory & { heapUsedMiB: number };
    /** A regcred started afresh on the same cluster, after its caches synced and its controller settled. */
    fresh: FreshMemory;
    /** The same with V8's own defaults for this host (no flags), for comparison with the image's flags. */
    freshDefaults: FreshMemory;
    /** RSS of Node alone, with @kubernetes/client-node imported, and with every runtime dependency imported. */
    footprint: { nodeMiB: number; bundleMiB: number };
  };
  targets: { name: string; target: string; value: string; met: boolean }[];
}

const SOURCE_NS = "registry-creds";

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const sizes = options.sizes ?? (options.smoke ? SMOKE_SIZES : FULL_SIZES);
  const log = options.log ?? ((line: string) => { console.log(line); });
  const started = Date.now();
  const say = (line: string): void => { log(`[bench +${Math.round((Date.now() - started) / 1000)}s] ${line}`); };
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), "regcred-bench-"));
  mkdirSync(workDir, { recursive: true });
  const loadStart = loadAverage();
  const id = `b${Date.now().toString(36)}`;

  let cp: ControlPlane | undefined;
  const procs: ServerProcess[] = [];
  let admin: KubeConfig | undefined;
  const stopAll = async (): Promise<void> => {
    for (const p of procs) await p.stop();
    if (admin) await unregisterWebhooks(admin);
  };
  try {
    say(`work directory ${workDir}`);
    if (!options.kubeconfigPath) {
      cp = await startControlPlane({ dataDir: join(workDir, "controlplane") });
      say(`control plane ready at ${cp.server}`);
    }
    const kubeconfigPath = options.kubeconfigPath ?? (cp as ControlPlane).kubeconfigPath;
    admin = adminKubeConfig(kubeconfigPath);
    const c = clientsFor(admin);
    const apiserver = new ApiServerMetrics(admin);

    // --- regcred as its own ServiceAccount, in a child process ---------------------------------
    await applyCrd(admin.makeApiClient(ApiextensionsV1Api));
    // Creates regcred's namespace and ServiceAccount; each regcred process gets a token of its own below.
    await serviceAccountKubeconfig(admin, REGCRED_NAMESPACE, "regcred");
    await applyRbac(admin, "regcred", REGCRED_NAMESPACE, "regcred");
    const certs = testCertificates();
    const build = await compile(join(workDir, "build"));
    say(`built regcred and the baseline (src/dev/build.ts) in ${build.seconds} s`);
    const ports = { regcred: await freePort(), regcredMetrics: await freePort(), baseline: await freePort(), baselineMetrics: await freePort() };
    const regcredEnv: Record<string, string> = {
      REGCRED_PORT: String(ports.regcred), REGCRED_METRICS_PORT: String(ports.regcredMetrics), REGCRED_BIND_ADDRESS: "127.0.0.1",
      REGCRED_TLS_CERT_FILE: certs.certFile, REGCRED_TLS_KEY_FILE: certs.keyFile, REGCRED_NAMESPACE: REGCRED_NAMESPACE,
      // The registries here are made up: a write probe would look their names up off this machine.
      REGCRED_VERIFICATION_MODE: "DeclaredOnly",
    };
    const image = imageRuntime();
    const imageFlags = image.nodeFlags;
    const startRegcred = async (name: string, nodeArgs: string[] = imageFlags): Promise<ServerProcess> => {
      const saKc = await serviceAccountKubeconfig(admin as KubeConfig, REGCRED_NAMESPACE, "regcred");
      const kubeconfig = join(workDir, `${name}.kubeconfig`);
      writeFileSync(kubeconfig, saKc.exportConfig(), { mode: 0o600 });
      const p = await startServerProcess({
        name, main: build.regcredMain, env: { ...image.env, ...regcredEnv, KUBECONFIG: kubeconfig },
        port: ports.regcred, metricsPort: ports.regcredMetrics, logFile: join(workDir, `${name}.log`), readyPath: "/readyz",
        nodeArgs: [...nodeArgs, ...(options.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${join(workDir, "profiles")}`] : [])],
      });
      procs.push(p);
      return p;
    };
    let regcred = await startRegcred("regcred");
    const settings = loadSettings([], regcredEnv);
    const caBundle = Buffer.from(certs.caPem).toString("base64");
    await registerWebhooks(admin, regcred.url, caBundle, settings);
    say(`regcred ready at ${regcred.url} (pid ${regcred.pid}); webhooks registered`);
    const baseline = await startServerProcess({
      name: "baseline", main: build.baselineMain,
      env: { ...image.env, BENCH_PORT: String(ports.baseline), BENCH_METRICS_PORT: String(ports.baselineMetrics), BENCH_TLS_CERT_FILE: certs.certFile, BENCH_TLS_KEY_FILE: certs.keyFile },
      port: ports.baseline, metricsPort: ports.baselineMetrics, logFile: join(workDir, "baseline.log"), readyPath: "/healthz", nodeArgs: imageFlags,
    });
    procs.push(baseline);
    say(`baseline ready at ${baseline.url} (pid ${baseline.pid})`);
    const barePort = await freePort();
    const bare = await startServerProcess({
      name: "bare", main: build.bareMain,
      env: { ...image.env, BENCH_PORT: String(barePort), BENCH_TLS_CERT_FILE: certs.certFile, BENCH_TLS_KEY_FILE: certs.keyFile },
      port: barePort, metricsPort: barePort, logFile: join(workDir, "bare.log"), readyPath: "/healthz", nodeArgs: imageFlags,
    });
    procs.push(bare);

    // --- (1) admission: baseline, warm path, cold path ------------------------------------------
    await retrying("creating the source namespace", () => c.core.createNamespace({ body: { metadata: { name: SOURCE_NS } } }));
    const admExports = Array.from({ length: sizes.admissionExports }, (_, i) => `${id}-adm-${i}`);
    for (const name of admExports) {
      await createSourceAndExport(c, SOURCE_NS, name, `${name}.registry.example`, { toNamespaces: ["*"] });
    }
    await waitExportsReady(c, admExports, 60_000);
    const plainNs = `${id}-plain`;
    const warmNs = `${id}-warm`;
    await retrying("creating the plain namespace", () => c.core.createNamespace({ body: { metadata: { name: plainNs } } }));
    await createOptedInNamespaces(c, [warmNs]);
    const matching = admExports[0] as string;
    const pod = await defaultedPod(c, plainNs, `${matching}.registry.example/shop/web:2.14.1`);
    const warmBody = admissionReview(pod, warmNs, "2f6d3c1a-7e4b-4c9a-9a0e-5b8d1f2c3e4d");
    const copy = copyName(SOURCE_NS, matching);
    // The first pod in the namespace writes the copy (a cold admission); later ones are warm.
    const tls = new Agent({ connect: { ca: certs.caPem } });
    await eventually("regcred to patch the warm namespace's pod", async () => {
      const answer = await review(tls, `${regcred.url}/mutate/pods`, warmBody);
      return answer.patch && Buffer.from(answer.patch, "base64").toString().includes(copy) ? true : undefined;
    }, 60_000, 250);
    await eventually("the warm namespace's copy", async () => ((await c.core.listNamespacedSecret({ namespace: warmNs })).items.length > 0 ? true : undefined));
    // (a') the baseline stack sending regcred's own warm answer: what the bigger answer costs by itself.
    const warmAnswer = await review(tls, `${regcred.url}/mutate/pods`, warmBody);
    const answerFile = join(workDir, "warm-answer.json");
    writeFileSync(answerFile, JSON.stringify(warmAnswer));
    // The request too, so a server can be loaded and profiled by hand with what the bench sends.
    writeFileSync(join(workDir, "warm-review.json"), warmBody);
    const answerPorts = { https: await freePort(), metrics: await freePort() };
    const answering = await startServerProcess({
      name: "baseline-answer", main: build.baselineMain,
      env: { ...image.env, BENCH_PORT: String(answerPorts.https), BENCH_METRICS_PORT: String(answerPorts.metrics), BENCH_TLS_CERT_FILE: certs.certFile, BENCH_TLS_KEY_FILE: certs.keyFile, BENCH_ANSWER_FILE: answerFile },
      port: answerPorts.https, metricsPort: answerPorts.metrics, logFile: join(workDir, "baseline-answer.log"), readyPath: "/healthz", nodeArgs: imageFlags,
    });
    procs.push(answering);
    const baselineAnswer = await review(tls, `${baseline.url}/mutate/pods`, warmBody);
    if (!baselineAnswer.allowed || baselineAnswer.patch) throw new Error(`the baseline answered ${JSON.stringify(baselineAnswer)}`);
    await apiserver.waitQuiet();
    say(`admission set up: ${sizes.admissionExports} Ready exports, pod AdmissionReview of ${Buffer.byteLength(warmBody)} bytes`);

    // The smallest pod AdmissionReview: one container, no managedFields (closer to a synthetic no-op test).
    const minimalPod = await defaultedPod(c, plainNs, `${matching}.registry.example/shop/web:2.14.1`, { minimal: true });
    const minimalBody = admissionReview(minimalPod, warmNs, "6a1e0c2b-3d4f-4e5a-8b6c-7d8e9f0a1b2c");
    const minimalAnswer = await review(tls, `${regcred.url}/mutate/pods`, minimalBody);
    if (!minimalAnswer.patch) throw new Error(`regcred did not patch the minimal pod: ${JSON.stringify(minimalAnswer)}`);

    const measure = async (title: string, target: ServerProcess, seconds: number, body = warmBody): Promise<ServerRun> => {
      const cpuBefore = cpuSecondsOf(target.pid);
      const end = cpuWindow();
      const result = await runLoad({ title, url: `${target.url}/mutate/pods`, connections: sizes.connections, duration: seconds, body });
      const cpu = end();
      return { ...result, serverCores: round2((cpuSecondsOf(target.pid) - cpuBefore) / result.durationSeconds), cpu };
    };
    await measure("warm-up bare", bare, sizes.warmupSeconds);
    await measure("warm-up baseline", baseline, sizes.warmupSeconds);
    await measure("warm-up warm", regcred, sizes.warmupSeconds);
    await measure("warm-up answer", answering, sizes.warmupSeconds);
    const warmBefore = await apiserver.counts();
    const regBefore = await scrape(regcred.metricsUrl);
    const rounds: Round[] = [];
    const servers = { bare, baseline, warm: regcred, answer: answering };
    for (let r = 0; r < sizes.rounds; r++) {
      // Each round starts with a different server, so that drift on the machine does not favour one.
      const order = (["baseline", "warm", "answer", "bare"] as const).map((_, i, all) => all[(i + r) % all.length] as keyof typeof servers);
      const runs: Partial<Record<keyof typeof servers, ServerRun>> = {};
      for (const which of order) runs[which] = await measure(`${which}, round ${r + 1}`, servers[which], sizes.roundSeconds);
      const round = { bare: runs.bare as ServerRun, baseline: runs.baseline as ServerRun, warm: runs.warm as ServerRun, answer: runs.answer as ServerRun };
      rounds.push(round);
      say(`round ${r + 1}: baseline ${Math.round(round.baseline.requestsPerSecond)} req/s p99 ${round.baseline.latencyMs.p99.toFixed(2)} ms; warm ${Math.round(round.warm.requestsPerSecond)} req/s p99 ${round.warm.latencyMs.p99.toFixed(2)} ms; baseline with regcred's answer ${Math.round(round.answer.requestsPerSecond)} req/s; bare ${Math.round(round.bare.requestsPerSecond)} req/s`);
    }
    const minimalRounds: { baseline: ServerRun; warm: ServerRun }[] = [];
    for (let r = 0; r < sizes.rounds; r++) {
      const first = r % 2 === 0 ? "baseline" : "warm";
      const runs: Partial<Record<"baseline" | "warm", ServerRun>> = {};
      for (const which of first === "baseline" ? ["baseline", "warm"] as const : ["warm", "baseline"] as const) {
        runs[which] = await measure(`minimal ${which}, round ${r + 1}`, which === "baseline" ? baseline : regcred, sizes.roundSeconds, minimalBody);
      }
      minimalRounds.push({ baseline: runs.baseline as ServerRun, warm: runs.warm as ServerRun });
      say(`minimal pod, round ${r + 1}: baseline ${Math.round((runs.baseline as ServerRun).requestsPerSecond)} req/s; warm ${Math.round((runs.warm as ServerRun).requestsPerSecond)} req/s`);
    }
    // Requests still in flight when a run ends reach regcred's counters a moment later.
    await sleep(500);
    const warmAfter = await apiserver.counts();
    const regAfter = await scrape(regcred.metricsUrl);
    const warmPatched = promValue(regAfter, "regcred_admission_requests_total", { webhook: "pods", outcome: "patched" })
      - promValue(regBefore, "regcred_admission_requests_total", { webhook: "pods", outcome: "patched" });
    const warmCopyWrites = promValue(regAfter, "regcred_copy_writes_total") - promValue(regBefore, "regcred_copy_writes_total");
    const warmBreakdown = diff(warmBefore, warmAfter);
    const warmAdmissions = [...rounds, ...minimalRounds].reduce((n, r) => n + r.warm.requests, 0);

    // Cold: each admission is the first pod of its namespace, so its copy is written to the API server.
    const coldNs = Array.from({ length: sizes.coldRequests + 2 * sizes.connections }, (_, i) => `${id}-cold-${i}`);
    say(`creating ${coldNs.length} namespaces for the cold path`);
    await createOptedInNamespaces(c, coldNs);
    await apiserver.waitQuiet(3000, 120_000);
    const coldBefore = await apiserver.counts();
    const coldRegBefore = await scrape(regcred.metricsUrl);
    const coldCpuBefore = cpuSecondsOf(regcred.pid);
    const coldEnd = cpuWindow();
    const coldRun = await runLoad({
      title: "(c) cold", url: `${regcred.url}/mutate/pods`, connections: sizes.connections, amount: sizes.coldRequests,
      bodyFor: (i) => admissionReview(pod, coldNs[i % coldNs.length] as string), timeoutSeconds: 30,
    });
    const coldCpu = coldEnd();
    const coldServerCores = round2((cpuSecondsOf(regcred.pid) - coldCpuBefore) / coldRun.durationSeconds);
    await apiserver.waitQuiet();
    const coldAfter = await apiserver.counts();
    const coldRegAfter = await scrape(regcred.metricsUrl);
    const coldCopies = await countAll((cont) => c.core.listSecretForAllNamespaces({
      labelSelector: `${LABEL_EXPORT_NAMESPACE}=${SOURCE_NS},${LABEL_EXPORT}=${matching}`, limit: 500, _continue: cont,
    }).then((l) => ({ items: l.items.filter((s) => s.metadata?.namespace?.startsWith(`${id}-cold-`)), metadata: l.metadata })));
    const copyWriteResults: Record<string, number> = {};
    for (const result of ["created", "updated", "unchanged", "conflict", "failed"]) {
      const d = promValue(coldRegAfter, "regcred_copy_writes_total", { result }) - promValue(coldRegBefore, "regcred_copy_writes_total", { result });
      if (d !== 0) copyWriteResults[result] = d;
    }
    say(`cold: ${Math.round(coldRun.requestsPerSecond)} req/s p99 ${coldRun.latencyMs.p99.toFixed(2)} ms, ${coldCopies} copies written`);

    // --- (3) fan-out and rotation ---------------------------------------------------------------
    const fanLabel = `bench.regcred.dev/set`;
    const fanNs = Array.from({ length: sizes.fanoutNamespaces }, (_, i) => `${id}-fan-${i}`);
    say(`creating ${fanNs.length} namespaces for the fan-out`);
    await createOptedInNamespaces(c, fanNs, () => ({ [fanLabel]: `${id}-fan` }));
    await apiserver.waitQuiet(3000, 120_000);
    const fanName = `${id}-fan`;
    const fanRegistry = `${fanName}.registry.example`;
    const watch = new CopyWatch(admin, SOURCE_NS, fanName);
    await watch.start();
    const fanBefore = await apiserver.counts();
    const fanStart = Date.now();
    await createSourceAndExport(c, SOURCE_NS, fanName, fanRegistry, { namespaceSelector: { matchLabels: { [fanLabel]: `${id}-fan` } }, provisioning: "Eager" });
    const fanTimeout = 120_000 + (sizes.fanoutNamespaces / settings.kubeApiQps) * 3000;
    await watch.until(`${fanNs.length} copies`, () => fanNs.every((ns) => watch.copies.has(ns)), fanTimeout);
    const createSeconds = (Date.now() - fanStart) / 1000;
    await apiserver.waitQuiet();
    const fanAfter = await apiserver.counts();
    say(`fan-out: ${fanNs.length} copies in ${createSeconds.toFixed(1)} s`);

    const source = await c.core.readNamespacedSecret({ namespace: SOURCE_NS, name: fanName });
    const rotated = Buffer.from(credentials(fanRegistry, `pw-${fanName}-2`)).toString("base64");
    const rotBefore = await apiserver.counts();
    const rotStart = Date.now();
    await c.core.replaceNamespacedSecret({ namespace: SOURCE_NS, name: fanName, body: { ...source, data: { ".dockerconfigjson": rotated } } });
    await watch.until(`${fanNs.length} rotated copies`, () => watch.holding(rotated) >= fanNs.length, fanTimeout);
    const rotationSeconds = (Date.now() - rotStart) / 1000;
    await apiserver.waitQuiet();
    const rotAfter = await apiserver.counts();
    watch.stop();
    say(`rotation: ${fanNs.length} copies updated in ${rotationSeconds.toFixed(1)} s`);

    // --- (4) memory -----------------------------------------------------------------------------
    const have = await clusterCounts(c);
    const want = sizes.memory.mode === "total"
      ? { namespaces: sizes.memory.namespaces, exports: sizes.memory.exports, copies: sizes.memory.copies }
      : { namespaces: have.namespaces + sizes.memory.namespaces, exports: have.exports + sizes.memory.exports, copies: have.copies + sizes.memory.copies };
    const addNs = Math.max(0, want.namespaces - have.namespaces);
    const addExports = Math.max(0, want.exports - have.exports);
    const addCopies = Math.max(0, want.copies - have.copies);
    say(`memory: cluster has ${have.namespaces} namespaces, ${have.exports} exports, ${have.copies} copies; adding ${addNs}, ${addExports} and ${addCopies}`);
    const memNs = Array.from({ length: addNs }, (_, i) => `${id}-mem-${i}`);
    const memExports = Array.from({ length: addExports }, (_, i) => `${id}-mem-${i}`);
    const memLabel = (e: number): string => `bench.regcred.dev/m${e}`;
    // Namespace j takes export j mod X; the first (copies − namespaces) take export j+1 mod X too.
    await createOptedInNamespaces(c, memNs, (j) => {
      if (memExports.length === 0) return {};
      const labels: Record<string, string> = { [memLabel(j % memExports.length)]: "true" };
      if (j < addCopies - addNs && memExports.length > 1) labels[memLabel((j + 1) % memExports.length)] = "true";
      return labels;
    });
    await eachLimited(memExports, 8, (name, e) => createSourceAndExport(c, SOURCE_NS, name, `${name}.registry.example`,
      { namespaceSelector: { matchLabels: { [memLabel(e)]: "true" } }, provisioning: "Eager" }));
    const expectCopies = have.copies + (memExports.length === 0 ? 0 : Math.min(addCopies, memNs.length * Math.min(2, memExports.length)));
    const memTimeout = 180_000 + (expectCopies / settings.kubeApiQps) * 3000;
    await eventually(`${expectCopies} copies`, async () => ((await countCopies(c)) >= expectCopies ? true : undefined), memTimeout, 2000);
    await waitExportsReady(c, memExports, 120_000);
    await apiserver.waitQuiet(3000, 120_000);
    const final = await clusterCounts(c);
    const afterLoadText = await scrape(regcred.metricsUrl);
    const afterLoad = { ...memoryOf(regcred.pid), heapUsedMiB: promValue(afterLoadText, "regcred_nodejs_heap_size_used_bytes") / 2 ** 20 };
    say(`regcred after every scenario: RSS ${afterLoad.rssMiB.toFixed(1)} MiB (peak ${afterLoad.peakRssMiB.toFixed(1)} MiB)`);

    const old = regcred;
    await old.stop();
    const measureFresh = async (name: string, nodeArgs: string[]): Promise<FreshMemory> => {
      const freshStart = Date.now();
      regcred = await startRegcred(name, nodeArgs);
      const startSeconds = (Date.now() - freshStart) / 1000;
      const atReady = memoryOf(regcred.pid).rssMiB;
      await apiserver.waitQuiet(3000, 120_000);
      const samples: number[] = [];
      for (let i = 0; i < sizes.memorySampleSeconds; i++) {
        await sleep(1000);
        samples.push(round2(memoryOf(regcred.pid).rssMiB));
      }
      const text = await scrape(regcred.metricsUrl);
      const mem = memoryOf(regcred.pid);
      await regcred.stop();
      const mib = (bytes: number): number => round2(bytes / 2 ** 20);
      const fresh: FreshMemory = {
        nodeArgs, rssMiB: round2(mem.rssMiB), peakRssMiB: round2(mem.peakRssMiB), atReadyMiB: round2(atReady), samplesMiB: samples, startSeconds: round2(startSeconds),
        heapUsedMiB: mib(promValue(text, "regcred_nodejs_heap_size_used_bytes")),
        heapTotalMiB: mib(promValue(text, "regcred_nodejs_heap_size_total_bytes")),
        newSpaceMiB: mib(promValue(text, "regcred_nodejs_heap_space_size_total_bytes", { space: "new" })),
      };
      say(`fresh regcred ${nodeArgs.join(" ")} with ${final.namespaces} namespaces, ${final.exports} exports, ${final.copies} copies: RSS ${fresh.rssMiB.toFixed(1)} MiB (peak ${fresh.peakRssMiB.toFixed(1)} MiB), V8 heap ${fresh.heapTotalMiB} MiB of which young generation ${fresh.newSpaceMiB} MiB`);
      return fresh;
    };
    const footprint = {
      nodeMiB: await importFootprintMiB([], imageFlags),
      bundleMiB: await importFootprintMiB([build.runtimeModule], imageFlags),
    };
    const fresh = await measureFresh("regcred-fresh", imageFlags);
    const freshDefaults = await measureFresh("regcred-fresh-defaults", []);
    // The smoke run cleans up through a running regcred (it revokes the bench's copies).
    if (options.smoke) regcred = await startRegcred("regcred-cleanup");

    if (options.smoke) await cleanUp(c, [...admExports, fanName, ...memExports]);
    await stopAll();
    procs.length = 0;

    const summary = (runs: ServerRun[]): Summary => ({
      requestsPerSecond: round2(median(runs.map((r) => r.requestsPerSecond))),
      p50Ms: round3(median(runs.map((r) => r.latencyMs.p50))),
      p99Ms: round3(median(runs.map((r) => r.latencyMs.p99))),
      maxMs: round3(Math.max(...runs.map((r) => r.latencyMs.max))),
    });
    const baseSummary = summary(rounds.map((r) => r.baseline));
    const warmSummary = summary(rounds.map((r) => r.warm));
    const ratioOf = (runs: { baseline: ServerRun; warm: ServerRun }[], base: Summary, warm: Summary): Ratio => ({
      requestsPerSecond: round3(median(runs.map((x) => x.warm.requestsPerSecond / x.baseline.requestsPerSecond))),
      p99: round3(median(runs.map((x) => x.warm.latencyMs.p99 / x.baseline.latencyMs.p99))),
      ofMedians: { requestsPerSecond: round3(warm.requestsPerSecond / base.requestsPerSecond), p99: round3(warm.p99Ms / base.p99Ms) },
    });
    const ratio = ratioOf(rounds, baseSummary, warmSummary);
    const minimalBase = summary(minimalRounds.map((r) => r.baseline));
    const minimalWarm = summary(minimalRounds.map((r) => r.warm));
    // What regcred's RBAC lets it touch; anything else the API server counted came from another client.
    const rbac = loadRbacRules();
    const mayUse = new Set([...rbac.clusterRules, ...rbac.namespaceRules, ...rbac.webhookConfigurationRules].flatMap((rule) => rule.resources ?? []));
    const sumOf = (pick: (key: string) => boolean): number => Object.entries(warmBreakdown).filter(([k]) => pick(k)).reduce((n, [, v]) => n + v, 0);
    const resourceOf = (key: string): string => key.split(" ")[1] ?? "";
    const warmWatches = sumOf((k) => k.startsWith("WATCH ") && mayUse.has(resourceOf(k)));
    const warmOthers = sumOf((k) => !mayUse.has(resourceOf(k)));
    const warmApi = total(warmBreakdown) - warmWatches - warmOthers;
    const fanCreate = diff(fanBefore, fanAfter);
    const fanRotate = diff(rotBefore, rotAfter);
    const report: BenchReport = {
      smoke: options.smoke,
      date: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: machineInfo(),
      loadAverage: { start: loadStart, end: loadAverage() },
      commands: {
        bench: options.smoke ? "npm run bench -- --smoke" : "npm run bench",
        regcred: portablePaths(old.command, workDir),
        baseline: portablePaths(baseline.command, workDir),
        controlPlane: cp ? `regcred-controlplane --data-dir $WORKDIR/controlplane (test/harness/controlPlane.ts)` : `existing cluster ${kubeconfigPath}`,
        imageFlags: [...Object.entries(image.env).map(([k, v]) => `${k}=${v}`), "node", ...image.nodeFlags].join(" "),
        compile: "esbuild with the options of src/dev/build.ts (npm run build): src/main.ts, src/runtime.ts, test/bench/servers/baseline.ts and bare.ts into $WORKDIR/build",
      },
      workDir,
      sizes,
      regcredSettings: { ...regcredEnv, REGCRED_KUBE_API_QPS: `${settings.kubeApiQps} (default)`, REGCRED_KUBE_API_BURST: `${settings.kubeApiBurst} (default)`, REGCRED_LOG_LEVEL: `${settings.logLevel} (default)` },
      admission: {
        connections: sizes.connections,
        bodyBytes: Buffer.byteLength(warmBody),
        rounds, baseline: baseSummary, warm: warmSummary, ratio, warmPatched, warmCopyWrites,
        answer: summary(rounds.map((x) => x.answer)), bare: summary(rounds.map((x) => x.bare)), answerBytes: Buffer.byteLength(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: warmAnswer })),
        minimal: {
          bodyBytes: Buffer.byteLength(minimalBody), rounds: minimalRounds, baseline: minimalBase, warm: minimalWarm,
          ratio: ratioOf(minimalRounds, minimalBase, minimalWarm),
        },
        cold: { ...coldRun, serverCores: coldServerCores, cpu: coldCpu, copiesCreated: coldCopies, copyWriteResults, apiRequests: diff(coldBefore, coldAfter) },
      },
      warmApiRequests: { admissions: warmAdmissions, apiRequests: warmApi, perAdmission: warmApi / Math.max(1, warmAdmissions), breakdown: warmBreakdown, watchRenewals: warmWatches, otherClients: warmOthers },
      fanout: {
        namespaces: fanNs.length, createSeconds: round2(createSeconds), createApiRequests: total(fanCreate), createBreakdown: fanCreate,
        rotationSeconds: round2(rotationSeconds), rotationApiRequests: total(fanRotate), rotationBreakdown: fanRotate,
      },
      memory: { ...final, afterLoad: roundMemory(afterLoad), fresh, freshDefaults, footprint },
      targets: [],
    };
    report.targets = targets(report);
    writeFileSync(join(workDir, "report.json"), JSON.stringify(report, null, 2));
    say(`done in ${report.durationSeconds} s`);
    return report;
  } catch (err) {
    say(`failed: ${err instanceof Error ? err.message : String(err)}; logs in ${workDir}`);
    await stopAll().catch(() => undefined);
    throw err;
  } finally {
    if (cp) {
      await cp.stop();
      // etcd's preallocated WAL is ~60 MB a run; keep the logs.
      rmSync(join(cp.dataDir, "etcd"), { recursive: true, force: true });
    }
    if (!options.cpuProf) rmSync(join(workDir, "build"), { recursive: true, force: true });
  }
}

function targets(r: BenchReport): BenchReport["targets"] {
  const mib = (n: number): string => `${n.toFixed(1)} MiB`;
  return [
    { name: "warm-path throughput vs baseline", target: "≥ 0.75×", value: `${r.admission.ratio.requestsPerSecond.toFixed(3)}× (median of the rounds' ratios; ratio of the medians ${r.admission.ratio.ofMedians.requestsPerSecond.toFixed(3)}×, ${Math.round(r.admission.warm.requestsPerSecond)} vs ${Math.round(r.admission.baseline.requestsPerSecond)} req/s)`, met: r.admission.ratio.requestsPerSecond >= 0.75 },
    { name: "warm-path p99 vs baseline", target: "≤ 1.5×", value: `${r.admission.ratio.p99.toFixed(3)}× (ratio of the medians ${r.admission.ratio.ofMedians.p99.toFixed(3)}×, ${r.admission.warm.p99Ms.toFixed(2)} vs ${r.admission.baseline.p99Ms.toFixed(2)} ms)`, met: r.admission.ratio.p99 <= 1.5 },
    { name: "warm-path throughput, absolute", target: "≥ 10,000 req/s", value: `${Math.round(r.admission.warm.requestsPerSecond)} req/s`, met: r.admission.warm.requestsPerSecond >= 10_000 },
    { name: "API requests per warm admission", target: "0", value: `${r.warmApiRequests.apiRequests} over ${r.warmApiRequests.admissions} admissions (besides ${r.warmApiRequests.watchRenewals} watch renewals and ${r.warmApiRequests.otherClients} by other clients)`, met: r.warmApiRequests.apiRequests === 0 },
    { name: `fan-out to ${r.fanout.namespaces} namespaces`, target: "< 30 s", value: `${r.fanout.createSeconds.toFixed(1)} s`, met: r.fanout.createSeconds < 30 },
    { name: `rotation of ${r.fanout.namespaces} copies`, target: "< 30 s", value: `${r.fanout.rotationSeconds.toFixed(1)} s`, met: r.fanout.rotationSeconds < 30 },
    { name: `RSS, ${r.memory.namespaces} namespaces / ${r.memory.exports} exports / ${r.memory.copies} copies (fresh, as the image runs it)`, target: "< 150 MiB", value: mib(r.memory.fresh.rssMiB), met: r.memory.fresh.rssMiB < 150 },
  ];
}

async function review(agent: Agent, url: string, body: string): Promise<{ allowed: boolean; patch?: string }> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent });
  const json = await res.json() as { response?: { allowed: boolean; patch?: string } };
  if (!json.response) throw new Error(`${url} answered ${res.status} without a response`);
  return json.response;
}

async function waitExportsReady(c: Clients, names: readonly string[], timeoutMs: number): Promise<void> {
  if (names.length === 0) return;
  const wanted = new Set(names);
  await eventually(`${names.length} exports to be Ready`, async () => {
    const ready = (await listExports(c, SOURCE_NS)).filter((e: PullSecretExport) => wanted.has(e.metadata.name ?? "") && isReady(e));
    return ready.length === wanted.size ? true : undefined;
  }, timeoutMs, 500);
}

function countCopies(c: Clients): Promise<number> {
  return countAll((cont) => c.core.listSecretForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`, limit: 500, _continue: cont }));
}

async function clusterCounts(c: Clients): Promise<{ namespaces: number; exports: number; copies: number }> {
  const namespaces = await countAll((cont) => c.core.listNamespace({ limit: 500, _continue: cont }));
  const exports = await countAll((cont) => c.custom.listCustomObjectForAllNamespaces({ group: "regcred.dev", version: "v1alpha1", resourcePlural: "pullsecretexports", limit: 500, _continue: cont }) as Promise<{ items: unknown[]; metadata?: { _continue?: string } }>);
  return { namespaces, exports, copies: await countCopies(c) };
}

/** Smoke runs share the test control plane: take the exports back (regcred revokes their copies). */
async function cleanUp(c: Clients, exports: readonly string[]): Promise<void> {
  await eachLimited(exports, 8, async (name) => {
    await c.custom.deleteNamespacedCustomObject({ group: "regcred.dev", version: "v1alpha1", plural: "pullsecretexports", namespace: SOURCE_NS, name }).catch(() => undefined);
    await c.core.deleteNamespacedSecret({ namespace: SOURCE_NS, name }).catch(() => undefined);
  });
  await eventually("the bench's copies to be revoked", async () => ((await countAll((cont) => c.core.listSecretForAllNamespaces({
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`, limit: 500, _continue: cont,
  }).then((l) => ({ items: l.items.filter((s) => exports.includes(s.metadata?.labels?.[LABEL_EXPORT] ?? "")), metadata: l.metadata })))) === 0 ? true : undefined), 60_000, 1000).catch(() => undefined);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function roundMemory<T extends Memory & { heapUsedMiB: number }>(m: T): T {
  return { ...m, rssMiB: round2(m.rssMiB), peakRssMiB: round2(m.peakRssMiB), heapUsedMiB: round2(m.heapUsedMiB) };
}


/** A command as the report shows it: this run's folders named, not spelled out. */
function portablePaths(command: string, workDir: string): string {
  return command.replaceAll(workDir, "$WORKDIR").replace(/[^\s=]*regcred-tls-[A-Za-z0-9]+/g, "$TLSDIR");
}
