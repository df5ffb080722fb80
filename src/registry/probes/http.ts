/**
 * The HTTP client of the probes: undici with an Agent that trusts the system's CAs plus the extra
 * ones configured (`--registry-ca-file`), never follows redirects, never uses a proxy from the
 * environment, and stops every request at the probe's deadline.
 *
 * Failures become a `ProbeNetworkError` whose message is a fixed phrase chosen from the error's
 * code: never the URL's query, a header or a body, so nothing secret can reach a message.
 */
import { getCACertificates } from "node:tls";
import { Agent, request } from "undici";

export interface HttpRequest {
  method: "GET" | "POST" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** Epoch milliseconds after which the request is abandoned. */
  deadline: number;
}

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text, at most MAX_BODY_BYTES (only read when asked for). */
  body: string;
}

export interface ProbeHttp {
  send(req: HttpRequest, options?: { readBody?: boolean }): Promise<HttpResponse>;
  close(): Promise<void>;
}

export class ProbeNetworkError extends Error {
  override name = "ProbeNetworkError";
}

const MAX_BODY_BYTES = 256 * 1024;
const USER_AGENT = "regcred-access-probe";

export interface ProbeHttpOptions {
  /** Extra trusted CA certificates (PEM), besides the system's. */
  caPems?: readonly string[];
  connectTimeoutMs?: number;
}

export function createProbeHttp(options: ProbeHttpOptions = {}): ProbeHttp {
  const ca = [...getCACertificates("default"), ...(options.caPems ?? [])];
  const agent = new Agent({
    connect: { ca, timeout: options.connectTimeoutMs ?? 5_000 },
    keepAliveTimeout: 10_000,
    connections: 16,
  });
  return {
    async send(req, opts = {}) {
      const remaining = req.deadline - Date.now();
      if (remaining <= 0) throw new ProbeNetworkError("no time was left to ask");
      const signal = AbortSignal.timeout(remaining);
      try {
        const res = await request(req.url, {
          method: req.method,
          headers: { "user-agent": USER_AGENT, ...(req.method === "POST" && req.body === undefined ? { "content-length": "0" } : {}), ...req.headers },
          ...(req.body !== undefined ? { body: req.body } : {}),
          dispatcher: agent,
          signal,
        });
        const body = opts.readBody ? await readLimited(res.body) : (await res.body.dump(), "");
        return { status: res.statusCode, headers: res.headers, body };
      } catch (err) {
        throw new ProbeNetworkError(describeNetworkError(err, remaining));
      }
    },
    close: () => agent.close(),
  };
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new ProbeNetworkError(`the answer was larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_SIGNATURE_FAILURE", "CERT_UNTRUSTED", "CERT_REVOKED",
  "ERR_SSL_WRONG_VERSION_NUMBER", "EPROTO", "ERR_SSL_PACKET_LENGTH_TOO_LONG",
]);

/** A fixed, secret-free phrase for a failed request. */
export function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof ProbeNetworkError) return err.message;
  const code = errorCode(err);
  const name = err instanceof Error ? err.name : "";
  if (name === "TimeoutError" || name === "AbortError" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "ABORT_ERR") {
    return `no answer within ${Math.max(0, Math.round(timeoutMs))} ms`;
  }
  if (code === "ECONNREFUSED") return "the connection was refused (is the registry running?)";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return "the host name does not resolve";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") return "the connection was closed before an answer came";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "the host cannot be reached";
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_"))) {
    return `TLS failed (${code}); if the registry's certificate comes from a private CA, add that CA to --registry-ca-file`;
  }
  return `the request failed (${code ?? (name || "unknown error")})`;
}

function errorCode(err: unknown): string | undefined {
  // undici wraps the socket's error as `cause`.
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string" && e.code !== "UND_ERR") return e.code;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}
