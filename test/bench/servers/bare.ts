/**
 * The benchmark's floor (scenario a0): the least any Node.js server can do with an AdmissionReview
 * on this machine — node:https with regcred's TLS settings, the body read and JSON.parse'd, a bare
 * `allowed` sent back — and nothing else: no routing, no validation, no metrics. What (a) and (b)
 * cost above it is the serving stack and regcred; what it costs is TLS, HTTP and JSON themselves.
 *
 * Run as its own process by the bench: BENCH_PORT, BENCH_TLS_CERT_FILE, BENCH_TLS_KEY_FILE.
 * Listens on 127.0.0.1 only; answers GET /healthz; exits on SIGTERM.
 */
import { createServer } from "node:https";
import { readKeyPair } from "../../../src/server/tls.js";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

const server = createServer({ ...readKeyPair(required("BENCH_TLS_CERT_FILE"), required("BENCH_TLS_KEY_FILE")), minVersion: "TLSv1.2" }, (req, res) => {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => { chunks.push(chunk); });
  req.on("end", () => {
    const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { request?: { uid?: string } };
    const answer = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: review.request?.uid ?? "", allowed: true } });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(required("BENCH_PORT")), "127.0.0.1");
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
