/**
 * The benchmark's baseline (scenario a): regcred's own serving stack — webhookApp from
 * src/server/app.ts (express, express.json, AdmissionReview parsing, metrics), node:https with the
 * same TLS options and keep-alive as src/runtime.ts, and the same metrics server — with webhooks
 * that allow everything. The only difference from regcred is the webhook logic.
 *
 * Run as its own process by the bench: BENCH_PORT, BENCH_METRICS_PORT, BENCH_TLS_CERT_FILE and
 * BENCH_TLS_KEY_FILE (and BENCH_ANSWER_FILE, below). Listens on 127.0.0.1 only; exits on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { allow, type AdmissionResponse } from "../../../src/admission/review.js";
import type { Webhook } from "../../../src/admission/webhooks.js";
import { createLogger } from "../../../src/observability/logger.js";
import { Metrics } from "../../../src/observability/metrics.js";
import { webhookApp } from "../../../src/server/app.js";
import { metricsServer } from "../../../src/server/metricsServer.js";
import { readKeyPair } from "../../../src/server/tls.js";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

/**
 * BENCH_ANSWER_FILE: a JSON AdmissionResponse (regcred's warm answer) to return, with each request's
 * uid, instead of a bare "allowed": the cost of sending regcred's answer, without regcred's logic.
 */
const answerFile = process.env.BENCH_ANSWER_FILE;
const answer = answerFile ? JSON.parse(readFileSync(answerFile, "utf8")) as AdmissionResponse : undefined;
const noop: Webhook = (request) => Promise.resolve(answer ? { ...answer, uid: request.uid } : allow(request.uid));
const log = createLogger("info");
const metrics = new Metrics({ processMetrics: true });
const app = webhookApp({
  webhooks: { pods: noop, namespaces: noop, exports: noop, secrets: noop },
  // regcred's default --max-body-bytes.
  maxBodyBytes: 8 * 1024 * 1024,
  metrics, log,
  ready: () => ({ ready: true, reasons: [] }),
});
const https = createHttpsServer({ ...readKeyPair(required("BENCH_TLS_CERT_FILE"), required("BENCH_TLS_KEY_FILE")), minVersion: "TLSv1.2" }, app);
https.keepAliveTimeout = 65_000;
const metricsHttp = metricsServer(metrics);
https.listen(Number(required("BENCH_PORT")), "127.0.0.1", () => {
  metricsHttp.listen(Number(required("BENCH_METRICS_PORT")), "127.0.0.1", () => {
    log.info({ port: https.address(), metricsPort: metricsHttp.address() }, "baseline serving");
  });
});
process.once("SIGTERM", () => {
  https.close();
  https.closeAllConnections();
  metricsHttp.close();
});
