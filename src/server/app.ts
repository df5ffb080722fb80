import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import express, { type ErrorRequestHandler } from "express";
import type { Webhook } from "../admission/webhooks.js";
import { parseAdmissionReview, reviewOf, deny } from "../admission/review.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics, WebhookName } from "../observability/metrics.js";
import { describeError } from "../observability/errors.js";
import { readJsonBody } from "./body.js";

export type Webhooks = Record<WebhookName, Webhook>;

export interface AppOptions {
  webhooks: Webhooks;
  maxBodyBytes: number;
  ready: () => { ready: boolean; reasons: string[] };
  metrics: Metrics;
  log: Logger;
}

const ROUTES: ReadonlyMap<string, WebhookName> = new Map([
  ["/mutate/pods", "pods"],
  ["/mutate/namespaces", "namespaces"],
  ["/validate/exports", "exports"],
  ["/validate/secrets", "secrets"],
]);

function problem(res: ServerResponse, code: number, message: string): void {
  send(res, code, JSON.stringify({ error: message }));
}

function send(res: ServerResponse, code: number, json: string): void {
  res.writeHead(code, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

/** The path of a request target, without its query (the API server adds `?timeout=10s`). */
function pathOf(url: string | undefined): string {
  const target = url ?? "";
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

/**
 * The HTTPS request handler: the four webhooks, answered directly on node:http (every admission
 * goes through here, so it reads and writes JSON with nothing in between; ADR 0008), and express
 * for the rest: health checks, and a JSON 404 for anything else.
 */
export function webhookApp(options: AppOptions): RequestListener {
  const { metrics, log } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/healthz", (_req, res) => { res.type("text/plain").send("ok"); });
  app.get("/readyz", (_req, res) => {
    const state = options.ready();
    res.status(state.ready ? 200 : 503).type("text/plain").send(state.ready ? "ok" : `not ready: ${state.reasons.join("; ")}`);
  });
  app.use((req, res) => { problem(res, 404, `no webhook at ${req.method} ${req.path}; regcred serves POST ${[...ROUTES.keys()].join(", ")}`); });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    log.error({ error: describeError(err) }, "request failed");
    problem(res, 500, "internal error");
  };
  app.use(onError);

  return (req, res) => {
    const name = req.method === "POST" ? ROUTES.get(pathOf(req.url)) : undefined;
    if (name === undefined) {
      app(req, res);
      return;
    }
    // Any content type is read as JSON: the API server sends application/json, and a client that
    // sends something else gets the same clear 400 as one that sends bad JSON.
    void serveReview(name, options.webhooks[name], req, res, options.maxBodyBytes, metrics, log).catch((err: unknown) => {
      log.error({ webhook: name, error: describeError(err) }, "request failed");
      if (!res.headersSent) problem(res, 500, "internal error");
    });
  };
}

async function serveReview(
  name: WebhookName, webhook: Webhook, req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, metrics: Metrics, log: Logger,
): Promise<void> {
  const started = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  const body = await readJsonBody(req, maxBodyBytes);
  if (!body.ok) {
    metrics.recordAdmission(name, "bad_request", seconds());
    if (body.status === 413) res.setHeader("connection", "close");
    problem(res, body.status, body.message);
    return;
  }
  const parsed = parseAdmissionReview(body.value);
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
  send(res, 200, JSON.stringify(reviewOf(response)));
}
