/**
 * Keeps `npm run bench` from rotting: the whole benchmark at tiny sizes against the shared test
 * control plane. Only that it finishes and produces a complete report is asserted, never a figure
 * (the machine runs other tests; the real run is `npm run bench`, docs/benchmarks.md).
 */
import { describe, expect, inject, it } from "vitest";
import { runBench, SMOKE_SIZES } from "../bench/bench.js";
import { renderReport } from "../bench/report.js";

describe("npm run bench, smoke-sized", () => {
  it("runs every scenario against the real API server and writes a report with every section", async () => {
    const lines: string[] = [];
    const report = await runBench({ smoke: true, sizes: SMOKE_SIZES, kubeconfigPath: inject("kubeconfigPath"), log: (l) => { lines.push(l); } });

    expect(report.smoke).toBe(true);
    const a = report.admission;
    expect(a.rounds).toHaveLength(SMOKE_SIZES.rounds);
    for (const run of [...a.rounds.flatMap((r) => [r.bare, r.baseline, r.answer, r.warm]), ...a.minimal.rounds.flatMap((r) => [r.baseline, r.warm]), a.cold]) {
      expect(run.requests).toBeGreaterThan(0);
      expect(Number.isFinite(run.latencyMs.p99)).toBe(true);
      expect(run.non2xx + run.errors + run.timeouts).toBe(0);
    }
    expect(a.warmPatched).toBeGreaterThan(0);
    expect(a.cold.copiesCreated).toBeGreaterThan(0);
    expect(report.warmApiRequests.admissions).toBeGreaterThan(0);
    expect(report.fanout.namespaces).toBe(SMOKE_SIZES.fanoutNamespaces);
    expect(report.fanout.createSeconds).toBeGreaterThan(0);
    expect(report.fanout.rotationSeconds).toBeGreaterThan(0);
    expect(report.memory.fresh.rssMiB).toBeGreaterThan(0);
    // regcred ran as the image runs it: the Dockerfile's node flags; and once with V8's defaults to compare.
    expect(report.memory.fresh.nodeArgs).toContain("--max-semi-space-size=8");
    expect(report.memory.freshDefaults.nodeArgs).toEqual([]);
    expect(report.memory.footprint.bundleMiB).toBeGreaterThan(report.memory.footprint.nodeMiB);
    expect(report.memory.afterLoad.rssMiB).toBeGreaterThan(0);
    expect(report.targets.length).toBeGreaterThanOrEqual(7);
    for (const t of report.targets) expect(typeof t.met).toBe("boolean");

    const markdown = renderReport(report);
    for (const heading of ["# regcred benchmarks", "## Machine", "## How it was run", "## 1. Admission", "## 2. API requests",
      "## 3. Fan-out", "## 4. Memory", "## Targets"]) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).toContain("npm run bench -- --smoke");
    expect(markdown).toContain("(a0) floor");
    expect(lines.some((l) => l.includes("done in"))).toBe(true);
  }, 300_000);
});
