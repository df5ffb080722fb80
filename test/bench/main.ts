/**
 * `npm run bench [-- options]`: runs the benchmark and writes its report.
 *
 *   --smoke              tiny sizes, a few seconds per scenario, no figures worth reading; the report
 *                        goes to the work directory unless --out is given (docs/benchmarks.md is not touched)
 *   --out FILE           where to write the Markdown report (default docs/benchmarks.md; smoke: work dir)
 *   --kubeconfig FILE    use this cluster-admin kubeconfig instead of starting a control plane
 *   --cpu-prof           run regcred with --cpu-prof; the .cpuprofile files stay in the work directory
 *   --work-dir DIR       logs, profiles and report.json (default: a new directory under /tmp)
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runBench } from "./bench.js";
import { REPO_ROOT } from "./processes.js";
import { renderReport } from "./report.js";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    smoke: { type: "boolean", default: process.env.REGCRED_BENCH_SMOKE === "1" },
    out: { type: "string" },
    kubeconfig: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "work-dir": { type: "string" },
  },
  strict: true,
});

const report = await runBench({
  smoke: values.smoke,
  ...(values.kubeconfig ? { kubeconfigPath: resolve(values.kubeconfig) } : {}),
  ...(values["work-dir"] ? { workDir: resolve(values["work-dir"]) } : {}),
  cpuProf: values["cpu-prof"],
});
const out = values.out ? resolve(values.out) : values.smoke ? join(report.workDir, "benchmarks.md") : join(REPO_ROOT, "docs/benchmarks.md");
writeFileSync(out, renderReport(report));
console.log(`report written to ${out}; raw figures in ${join(report.workDir, "report.json")}`);
for (const t of report.targets) console.log(`${t.met ? "met   " : "MISSED"} ${t.name}: ${t.value} (target ${t.target})`);
// Sockets of the API clients may keep the loop alive; everything of ours has stopped.
process.exit(0);
