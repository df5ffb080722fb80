import express, { type ErrorRequestHandler, type Request, type Response } from "express";
import type { Webhook } from "../admission/webhooks.js";
import { parseAdmissionReview, reviewOf, deny } from "../admission/review.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics, WebhookName } from "../observability/metrics.js";
import { describeError } from "../observability/errors.js";

export type Webhooks = Record<WebhookName, Webhook>;

export interface AppOptions {
  webhooks: Webhooks;
  maxBodyBytes: number;
  ready: () => { ready: boolean; reasons: string[] };
  metrics: Metrics;
  log: Logger;
}

const ROUTES: Record<string, WebhookName> = {
  "/mutate/pods": "pods",
  "/mutate/namespaces": "namespaces",
  "/validate/exports": "exports",
  "/validate/secrets": "secrets",
};

function problem(res: Response, code: number, message: string): void {
  res.status(code).type("application/json").send(JSON.stringify({ error: message }));
}

/** The HTTPS application: the four webhooks and the health checks. */
export function webhookApp(options: AppOptions): express.Express {
  const { metrics, log } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/healthz", (_req, res) => { res.type("text/plain").send("ok"); });
  app.get("/readyz", (_req, res) => {
    const state = options.ready();
    res.status(state.ready ? 200 : 503).type("text/plain").send(state.ready ? "ok" : `not ready: ${state.reasons.join("; ")}`);
  });
  // Any content type is read as JSON: the API server sends application/json, and a client that
  // sends something else gets the same clear 400 as one that sends bad JSON. Only on the webhook
  // paths, so an unknown path is a 404 whatever its body.
  const json = express.json({ limit: options.maxBodyBytes, type: () => true, strict: false });
  for (const [path, name] of Object.entries(ROUTES)) {
    app.post(path, json, (req: Request, res: Response) => {
      void serveReview(name, options.webhooks[name], req, res, metrics, log);
    });
  }
  app.use((req, res) => { problem(res, 404, `no webhook at ${req.method} ${req.path}; regcred serves POST ${Object.keys(ROUTES).join(", ")}`); });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const type = (err as { type?: unknown }).type;
    const webhook = ROUTES[req.path];
    if (webhook && (type === "entity.too.large" || type === "entity.parse.failed")) {
      metrics.admissionRequests.inc({ webhook, outcome: "bad_request" });
    }
    if (type === "entity.too.large") {
      problem(res, 413, `request body is larger than ${options.maxBodyBytes} bytes`);
    } else if (type === "entity.parse.failed" || type === "encoding.unsupported" || type === "charset.unsupported") {
      problem(res, 400, "request body is not valid JSON; send an admission.k8s.io/v1 AdmissionReview");
    } else {
      log.error({ error: describeError(err) }, "request failed");
      problem(res, 500, "internal error");
    }
  };
  app.use(onError);
  return app;
}

async function serveReview(name: WebhookName, webhook: Webhook, req: Request, res: Response, metrics: Metrics, log: Logger): Promise<void> {
  const started = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  const parsed = parseAdmissionReview(req.body);
  if (!parsed.ok) {
    metrics.recordAdmission(name, "bad_request", seconds());
    problem(res, 400, parsed.message);
    return;
  }
  let response;
  try {
    response = await webhook(parsed.request);
  } catch (err) {
    log.error({ webhook: name, uid: parsed.request.uid, error: describeError(err) }, "webhook failed");
    response = deny(parsed.request.uid, "regcred: internal error while admitting this object; see regcred's logs", 500);
  }
  metrics.recordAdmission(name, !response.allowed ? (response.status?.code === 500 ? "error" : "denied") : response.patch ? "patched" : "allowed", seconds());
  res.type("application/json").send(JSON.stringify(reviewOf(response)));
}
