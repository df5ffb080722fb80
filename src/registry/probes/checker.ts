/**
 * The network `AccessChecker`: probes every registry key of a source for write access, within the
 * caller's time budget, and caches what it found.
 *
 * - A source annotated `regcred.dev/access: read-write` is Writable without a probe. A source
 *   annotated `read-only` is still probed ("prove it, not trust a label"); only
 *   `verification.mode: DeclaredOnly` goes by the annotation alone.
 * - Results are cached per source (namespace/name, resourceVersion, a salted hash of the
 *   credential) and registry (key and probed repositories): proven results for DEFINITE_TTL_MS,
 *   Unknown ones for UNKNOWN_TTL_MS. The hash matters: an UPDATE under admission carries the
 *   resourceVersion the client read, so the version alone would hand a rotated credential the old
 *   verdict.
 * - Short budgets (the admission path) probe once; long ones (the controller) retry an Unknown
 *   result with back-off while the budget lasts, and do not take an Unknown that a shorter budget
 *   produced from the cache.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Settings, VerificationMode } from "../../config/settings.js";
import type { Logger } from "../../observability/logger.js";
import { declaredAccess, declaredOnlyChecker, type AccessCheck, type AccessChecker, type AccessSubject } from "../access.js";
import type { RegistryCredential } from "../dockerConfig.js";
import { registryEndpoint } from "./endpoint.js";
import { createProbeHttp, type ProbeHttp } from "./http.js";
import { probeRegistry } from "./probe.js";
import { probedRepositories } from "./repositories.js";
import { combineResults, type ProbeResult } from "./verdict.js";

export const DEFINITE_TTL_MS = 4 * 60_000;
export const UNKNOWN_TTL_MS = 20_000;
/** Budgets at least this long retry Unknown results. */
export const RETRY_BUDGET_MS = 10_000;
const RETRY_BACKOFF_MS = [1_000, 3_000];
const MAX_ENTRIES = 2_000;
/** Time kept back from the budget for the caller's own work after the check. */
const RESERVE_MS = 150;

export interface ProbeCheckerOptions {
  mode: VerificationMode;
  plainHttpRegistries: readonly string[];
  log: Logger;
  http: ProbeHttp;
  now?: () => number;
  definiteTtlMs?: number;
  unknownTtlMs?: number;
}

interface Entry {
  results: ProbeResult[];
  expires: number;
  /** The budget that produced an Unknown result; a longer budget probes again. */
  budgetMs: number;
}

interface InFlight {
  promise: Promise<ProbeResult[]>;
  budgetMs: number;
}

/** The checker for a verification mode: DeclaredOnly probes nothing; the others probe. */
export function createAccessChecker(settings: Settings, log: Logger): AccessChecker {
  if (settings.verificationMode === "DeclaredOnly") return declaredOnlyChecker;
  const caPems = settings.registryCaFile === "" ? [] : [readCaFile(settings.registryCaFile)];
  return new ProbeAccessChecker({
    mode: settings.verificationMode,
    plainHttpRegistries: settings.plainHttpRegistries,
    log: log.child({ component: "access-probe" }),
    http: createProbeHttp({ caPems }),
  });
}

/** Reads a PEM bundle of extra CA certificates; throws naming the file (never its content) when it is not one. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unreadable";
    throw new Error(`--registry-ca-file ${path} cannot be read (${code})`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(`--registry-ca-file ${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  }
  return text;
}

export class ProbeAccessChecker implements AccessChecker {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly salt = randomBytes(16);
  private readonly now: () => number;
  private readonly definiteTtlMs: number;
  private readonly unknownTtlMs: number;

  constructor(private readonly o: ProbeCheckerOptions) {
    this.now = o.now ?? Date.now;
    this.definiteTtlMs = o.definiteTtlMs ?? DEFINITE_TTL_MS;
    this.unknownTtlMs = o.unknownTtlMs ?? UNKNOWN_TTL_MS;
  }

  async check(subject: AccessSubject, budgetMs: number): Promise<AccessCheck> {
    const declared = declaredAccess(subject.annotations);
    if (declared?.verdict === "Writable") return declared;
    if (this.o.mode === "DeclaredOnly") return declaredOnlyChecker.check(subject, budgetMs);
    if (subject.credentials.length === 0) return { verdict: "Unknown", method: "none", message: "the source holds no registry credentials to probe" };
    const started = Date.now();
    const deadline = started + Math.max(budgetMs - Math.min(RESERVE_MS, budgetMs * 0.1), 1);
    const perRegistry = await Promise.all(subject.credentials.map((credential) => this.checkRegistry(subject, credential, budgetMs, deadline)));
    const check = combineResults(perRegistry.flat());
    this.o.log.debug({ source: `${subject.namespace}/${subject.name}`, verdict: check.verdict, method: check.method, registry: check.registry, repository: check.repository, ms: Date.now() - started }, "write-access check");
    return check;
  }

  /** Forgets every cached result (for example after the CA bundle changed). */
  clear(): void {
    this.cache.clear();
  }

  private async checkRegistry(subject: AccessSubject, credential: RegistryCredential, budgetMs: number, deadline: number): Promise<ProbeResult[]> {
    const found = registryEndpoint(credential.key, this.o.plainHttpRegistries);
    if (!found.ok) return [{ verdict: "Unknown", method: "none", registry: found.registry, reason: found.reason }];
    const endpoint = found.endpoint;
    const repositories = probedRepositories(credential, endpoint.pathPrefix, subject.repositories, endpoint.host === "docker.io");
    const key = [subject.namespace, subject.name, subject.resourceVersion, this.fingerprint(credential), endpoint.registry, endpoint.origin, repositories.join(",")].join("\u0000");

    const cached = this.cache.get(key);
    if (cached && cached.expires > this.now() && (!hasUnknown(cached.results) || budgetMs <= cached.budgetMs)) return cached.results;

    const running = this.inFlight.get(key);
    if (running && budgetMs <= running.budgetMs) return withDeadline(running.promise, deadline, endpoint.registry);

    const promise = this.probeWithRetries(credential, endpoint, repositories, budgetMs, deadline, subject);
    this.inFlight.set(key, { promise, budgetMs });
    try {
      const results = await withDeadline(promise, deadline, endpoint.registry);
      this.remember(key, results, budgetMs);
      return results;
    } finally {
      if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
    }
  }

  private async probeWithRetries(
    credential: RegistryCredential,
    endpoint: Parameters<typeof probeRegistry>[1],
    repositories: readonly string[],
    budgetMs: number,
    deadline: number,
    subject: AccessSubject,
  ): Promise<ProbeResult[]> {
    const attempts = budgetMs >= RETRY_BUDGET_MS ? RETRY_BACKOFF_MS.length + 1 : 1;
    let results: ProbeResult[] = [];
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        results = await probeRegistry(credential, endpoint, repositories, {
          http: this.o.http, plainHttpRegistries: this.o.plainHttpRegistries, log: this.o.log, deadline,
        });
      } catch (err) {
        // A bug, not an answer: say so without repeating anything the error may hold.
        this.o.log.error({ registry: endpoint.registry, error: err instanceof Error ? err.name : "unknown" }, "write-access probe failed unexpectedly");
        results = [{ verdict: "Unknown", method: "none", registry: endpoint.registry, reason: "the probe failed unexpectedly (see regcred's log)" }];
      }
      const source = `${subject.namespace}/${subject.name}`;
      for (const r of results) {
        this.o.log.info({ source, registry: r.registry, repository: r.repository, verdict: r.verdict, method: r.method, reason: r.reason, attempt: attempt + 1 }, "write-access probe");
      }
      const backoff = RETRY_BACKOFF_MS[attempt];
      if (!hasUnknown(results) || attempt + 1 >= attempts || backoff === undefined || deadline - Date.now() < backoff + 1_000) break;
      await sleep(backoff);
    }
    return results;
  }

  private remember(key: string, results: ProbeResult[], budgetMs: number): void {
    const ttl = hasUnknown(results) ? this.unknownTtlMs : this.definiteTtlMs;
    this.cache.delete(key);
    this.cache.set(key, { results, expires: this.now() + ttl, budgetMs });
    while (this.cache.size > MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  /** A salted hash of what authenticates (never stored or shown in the clear). */
  private fingerprint(c: RegistryCredential): string {
    return createHash("sha256").update(this.salt)
      .update(JSON.stringify([c.key, c.username ?? null, c.password ?? null, c.identityToken ?? null, c.registryToken ?? null]))
      .digest("base64url");
  }
}

function hasUnknown(results: readonly ProbeResult[]): boolean {
  return results.some((r) => r.verdict === "Unknown");
}

/** The probe's results, or Unknown for the registry when they do not come by the deadline. */
async function withDeadline(promise: Promise<ProbeResult[]>, deadline: number, registry: string): Promise<ProbeResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeResult[]>((resolve) => {
    timer = setTimeout(() => {
      resolve([{ verdict: "Unknown", method: "none", registry, reason: "the registry did not answer within the time budget of the check" }]);
    }, Math.max(deadline - Date.now() + 25, 0));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
