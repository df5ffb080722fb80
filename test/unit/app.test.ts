import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Agent, fetch } from "undici";
import type { Webhook } from "../../src/admission/webhooks.js";
import { allow, allowWithPatch, deny } from "../../src/admission/review.js";
import { createAuthority, issueServingCertificate } from "../../src/certs/authority.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { webhookApp } from "../../src/server/app.js";

const MAX_BODY = 4096;

let server: Server;
let agent: Agent;
let base: string;
let ready = false;
let podCalls = 0;
const metrics = new Metrics({ processMetrics: false });

const pods: Webhook = (request) => {
  podCalls++;
  return Promise.resolve(allow(request.uid, request.dryRun ? ["regcred: dry run"] : []));
};
const namespaces: Webhook = (request) => Promise.resolve(allowWithPatch(request.uid, Buffer.from("[]").toString("base64")));
const exportsHook: Webhook = () => Promise.reject(new Error("the cache exploded"));
const secrets: Webhook = (request) => {
  if (request.name === "sync-throw") throw new Error("thrown before any await");
  return Promise.resolve(deny(request.uid, "regcred: no"));
};

beforeAll(async () => {
  const ca = createAuthority("regcred-test-ca");
  const serving = issueServingCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const app = webhookApp({
    webhooks: { pods, namespaces, exports: exportsHook, secrets },
    maxBodyBytes: MAX_BODY,
    ready: () => ({ ready, reasons: ready ? [] : ["caches not synced"] }),
    metrics,
    log: createLogger("silent"),
  });
  server = createServer({ cert: serving.cert, key: serving.key }, app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  agent = new Agent({ connect: { ca: ca.cert } });
}, 60_000);

afterAll(async () => {
  await agent.close();
  await new Promise<void>((resolve, reject) => server.close((err) => { if (err) reject(err); else resolve(); }));
});

function reviewBody(request: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
    request: { uid: "uid-1", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace: "team-a", object: {}, ...request },
    ...top,
  });
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

async function post(path: string, body: string, contentType = "application/json"): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": contentType }, dispatcher: agent });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: parsed, text };
}

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, { dispatcher: agent });
  return { status: res.status, text: await res.text() };
}

function errorOf(answer: Answer): string {
  expect(answer.contentType).toMatch(/^application\/json/);
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  if (typeof error !== "string") throw new Error(`no JSON error in ${answer.text}`);
  return error;
}

function responseOf(answer: Answer): Record<string, unknown> {
  expect(answer.status).toBe(200);
  const review = answer.body as { apiVersion?: string; kind?: string; response?: Record<string, unknown> };
  expect(review.apiVersion).toBe("admission.k8s.io/v1");
  expect(review.kind).toBe("AdmissionReview");
  if (!review.response) throw new Error(`no response in ${answer.text}`);
  return review.response;
}

async function outcomes(webhook: string): Promise<Record<string, number>> {
  const { values } = await metrics.admissionRequests.get();
  return Object.fromEntries(values.filter((v) => v.labels.webhook === webhook).map((v) => [String(v.labels.outcome), v.value]));
}

describe("webhookApp over HTTPS", () => {
  it("answers a well-formed review, echoing request.uid", async () => {
    const response = responseOf(await post("/mutate/pods", reviewBody({ uid: "3f1c-echo-me", dryRun: true })));
    expect(response).toEqual({ uid: "3f1c-echo-me", allowed: true, warnings: ["regcred: dry run"] });
  });

  it("routes each path to its webhook", async () => {
    expect(responseOf(await post("/mutate/namespaces", reviewBody({ uid: "ns-1" })))).toMatchObject({ uid: "ns-1", allowed: true, patchType: "JSONPatch" });
    expect(responseOf(await post("/validate/secrets", reviewBody({ uid: "s-1" })))).toMatchObject({ uid: "s-1", allowed: false, status: { code: 403 } });
  });

  it("reads the body as JSON whatever the content type says", async () => {
    expect(responseOf(await post("/mutate/pods", reviewBody({ uid: "ct-1" }), "text/plain"))).toMatchObject({ uid: "ct-1", allowed: true });
  });

  it("a wrong apiVersion: 400 with a JSON error naming the expected one", async () => {
    const before = podCalls;
    const answer = await post("/mutate/pods", reviewBody({}, { apiVersion: "admission.k8s.io/v1beta1" }));
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toContain("admission.k8s.io/v1");
    expect(podCalls).toBe(before);
  });

  it("no request.uid: 400 saying so", async () => {
    const answer = await post("/mutate/pods", reviewBody({ uid: undefined }));
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatch(/request\.uid is missing/);
  });

  it.each([["{not json"], [""], ["null"], ["[1,2]"], ["\"a string\""]])("a body of %j: 400 with a JSON error", async (body) => {
    const answer = await post("/validate/exports", body);
    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toMatch(/JSON|AdmissionReview/);
  });

  it("a body over maxBodyBytes: 413", async () => {
    const big = reviewBody({ object: { padding: "x".repeat(MAX_BODY * 2) } });
    const answer = await post("/mutate/pods", big);
    expect(answer.status).toBe(413);
    expect(errorOf(answer)).toContain(String(MAX_BODY));
  });

  it("a body over maxBodyBytes sent without a length (chunked): 413 all the same", async () => {
    const big = reviewBody({ object: { padding: "x".repeat(MAX_BODY * 2) } });
    const chunks = [big.slice(0, 1000), big.slice(1000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await fetch(`${base}/mutate/pods`, { method: "POST", body: stream, duplex: "half", headers: { "content-type": "application/json" }, dispatcher: agent });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toContain(String(MAX_BODY));
  });

  it("a compressed body: 415 saying to send it uncompressed", async () => {
    const res = await fetch(`${base}/mutate/pods`, {
      method: "POST", body: gzipSync(reviewBody({ uid: "gz" })), headers: { "content-type": "application/json", "content-encoding": "gzip" }, dispatcher: agent,
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toMatch(/gzip.*uncompressed/);
  });

  it("the API server's ?timeout= query: still the webhook", async () => {
    expect(responseOf(await post("/mutate/pods?timeout=10s", reviewBody({ uid: "with-query" }))).uid).toBe("with-query");
  });

  it("a body just under maxBodyBytes is served", async () => {
    const empty = reviewBody({ uid: "fits", object: { padding: "" } });
    const fits = reviewBody({ uid: "fits", object: { padding: "x".repeat(MAX_BODY - empty.length - 10) } });
    expect(Buffer.byteLength(fits)).toBeLessThan(MAX_BODY);
    expect(responseOf(await post("/mutate/pods", fits)).uid).toBe("fits");
  });

  it("an unknown path, or GET on a webhook path: 404 with a JSON error listing the webhooks", async () => {
    const answer = await post("/mutate/deployments", reviewBody({}));
    expect(answer.status).toBe(404);
    expect(errorOf(answer)).toContain("/mutate/pods");
    const res = await fetch(`${base}/mutate/pods`, { dispatcher: agent });
    expect(res.status).toBe(404);
    expect(await res.json()).toHaveProperty("error");
  });

  it("a webhook that rejects: a deny with code 500 for that uid, and the server keeps serving", async () => {
    const response = responseOf(await post("/validate/exports", reviewBody({ uid: "boom-1" })));
    expect(response).toMatchObject({ uid: "boom-1", allowed: false, status: { code: 500, reason: "InternalError" } });
    expect(JSON.stringify(response)).not.toContain("the cache exploded");
    expect(responseOf(await post("/mutate/pods", reviewBody({ uid: "after-boom" }))).uid).toBe("after-boom");
  });

  it("a webhook that throws synchronously: the same", async () => {
    const response = responseOf(await post("/validate/secrets", reviewBody({ uid: "boom-2", name: "sync-throw" })));
    expect(response).toMatchObject({ uid: "boom-2", allowed: false, status: { code: 500 } });
  });

  it("records outcomes in the metrics", async () => {
    const exportsOutcomes = await outcomes("exports");
    expect(exportsOutcomes.error).toBeGreaterThanOrEqual(1);
    expect(exportsOutcomes.bad_request).toBeGreaterThanOrEqual(4);
    expect((await outcomes("namespaces")).patched).toBeGreaterThanOrEqual(1);
    expect((await outcomes("secrets")).denied).toBeGreaterThanOrEqual(1);
  });

  it("/healthz: 200", async () => {
    expect(await get("/healthz")).toEqual({ status: 200, text: "ok" });
  });

  it("/readyz: 503 with the reasons, then 200 once ready", async () => {
    ready = false;
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.text).toContain("caches not synced");
    ready = true;
    expect(await get("/readyz")).toEqual({ status: 200, text: "ok" });
  });

  it("after all the bad requests, still answers", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post("/mutate/pods", reviewBody({ uid: `last-${String(i)}` }))));
    expect(answers.map((a) => responseOf(a).uid)).toEqual(Array.from({ length: 20 }, (_, i) => `last-${String(i)}`));
    expect((await get("/healthz")).status).toBe(200);
  });
});
