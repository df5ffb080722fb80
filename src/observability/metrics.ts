import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type WebhookName = "pods" | "namespaces" | "exports" | "secrets";
export type AdmissionOutcome = "allowed" | "patched" | "denied" | "error" | "bad_request";
export type CopyWriteResult = "created" | "updated" | "unchanged" | "conflict" | "failed" | "deleted";

/** The metrics regcred exposes. One instance per process, passed to whoever records. */
export class Metrics {
  readonly registry = new Registry();
  readonly admissionRequests = new Counter({
    name: "regcred_admission_requests_total",
    help: "Admission requests handled, by webhook and outcome.",
    labelNames: ["webhook", "outcome"] as const,
    registers: [this.registry],
  });
  readonly admissionDuration = new Histogram({
    name: "regcred_admission_duration_seconds",
    help: "Time to answer an admission request, by webhook.",
    labelNames: ["webhook"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly copyWrites = new Counter({
    name: "regcred_copy_writes_total",
    help: "Writes of credential copies, by result.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "regcred_" });
  }

  recordAdmission(webhook: WebhookName, outcome: AdmissionOutcome, seconds: number): void {
    this.admissionRequests.inc({ webhook, outcome });
    this.admissionDuration.observe({ webhook }, seconds);
  }

  recordCopyWrite(result: CopyWriteResult): void {
    this.copyWrites.inc({ result });
  }
}
