/**
 * The console (`regcred ui`): a page on 127.0.0.1 that lists registry secrets, creates them and
 * exports them, acting with the user's own kubeconfig credentials (the same operations as the CLI).
 *
 * Guards, because a page on loopback can still be reached by other sites in the user's browser:
 * - it listens on 127.0.0.1 only, and answers only requests whose Host is 127.0.0.1:PORT or
 *   localhost:PORT (a DNS-rebinding site has another Host);
 * - a per-run random token: the printed URL carries it once, the server trades it for an HttpOnly,
 *   SameSite=Strict cookie and drops it from the address bar; every API call must bring the cookie
 *   AND the token in an `X-Regcred-Token` header (a custom header cannot be sent cross-site without
 *   a CORS preflight, which is never granted), and an Origin or Sec-Fetch-Site header, when sent,
 *   must say same-origin;
 * - a strict Content-Security-Policy (no inline script, nothing from elsewhere, no framing).
 * Credentials a user submits are used for the one Secret they create and never sent back.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeClients } from "../cluster/kube.js";
import { apiFailure, CliError, type ApiFailure } from "../cli/apiError.js";
import { UsageError, validateNamespaceName, validateObjectName } from "../cli/args.js";
import {
  createRegistrySecret, exportSecret, listRegistrySecrets, namespaceNames, secretStatus, unexportSecret,
} from "../cli/operations.js";
import { APP_CSS, APP_JS, indexHtml } from "./assets.js";

const COOKIE = "regcred_console";
const MAX_BODY_BYTES = 64 * 1024;

export interface ConsoleOptions {
  clients: KubeClients;
  /** What the page shows about who acts: cluster URL, context, user. */
  identity: { server: string; context: string; user: string; namespace: string };
  /** 0 (default): a free port. */
  port?: number;
  /** One line per request, for the terminal (never a body). */
  log?: (line: string) => void;
}

export interface Console {
  /** Open this: it carries the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startConsole(o: ConsoleOptions): Promise<Console> {
  const token = randomBytes(32).toString("base64url");
  let port = 0;
  const server: Server = createServer((req, res) => {
    handle(req, res, { ...o, token, port }).catch((err: unknown) => {
      // A bug, not an API error: say so without details that might hold anything sensitive.
      o.log?.(`console: internal error (${err instanceof Error ? err.name : "unknown"})`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, reason: "InternalError", message: "the console failed to handle this request; see its terminal" } });
      else res.end();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => { resolve(); });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => { resolve(); });
    }),
  };
}

interface Ctx extends ConsoleOptions {
  token: string;
  port: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Ctx): Promise<void> {
  securityHeaders(res);
  const host = req.headers.host ?? "";
  if (host !== `127.0.0.1:${ctx.port}` && host !== `localhost:${ctx.port}`) {
    sendText(res, 421, "This console answers only at 127.0.0.1.\n");
    return;
  }
  const url = new URL(req.url ?? "/", `http://${host}`);
  const method = req.method ?? "GET";
  ctx.log?.(`${method} ${url.pathname}`);

  if (url.pathname === "/app.js" && method === "GET") {
    send(res, 200, "text/javascript; charset=utf-8", APP_JS);
    return;
  }
  if (url.pathname === "/app.css" && method === "GET") {
    send(res, 200, "text/css; charset=utf-8", APP_CSS);
    return;
  }
  if (url.pathname === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  if (url.pathname === "/" && method === "GET") {
    const offered = url.searchParams.get("token");
    if (offered !== null) {
      if (!same(offered, ctx.token)) {
        sendText(res, 403, "This link's token is not this console's. Open the URL that `regcred ui` printed.\n");
        return;
      }
      res.writeHead(303, { "set-cookie": `${COOKIE}=${ctx.token}; HttpOnly; SameSite=Strict; Path=/`, location: "/" }).end();
      return;
    }
    if (!hasCookie(req, ctx.token)) {
      sendText(res, 401, "Open the URL that `regcred ui` printed (it carries this run's token).\n");
      return;
    }
    send(res, 200, "text/html; charset=utf-8", indexHtml(ctx.token));
    return;
  }
  if (url.pathname.startsWith("/api/")) {
    const refusal = guardApi(req, ctx);
    if (refusal) {
      sendJson(res, 403, { error: { code: 403, reason: "Forbidden", message: refusal, console: true } });
      return;
    }
    await api(req, res, url, method, ctx);
    return;
  }
  sendText(res, 404, "Not found.\n");
}

/** Why an API request is refused, or undefined when it may go on. */
function guardApi(req: IncomingMessage, ctx: Ctx): string | undefined {
  if (!hasCookie(req, ctx.token)) return "no console session: open the URL that regcred ui printed";
  const header = req.headers["x-regcred-token"];
  if (typeof header !== "string" || !same(header, ctx.token)) return "missing or wrong X-Regcred-Token";
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${ctx.port}` && origin !== `http://localhost:${ctx.port}`) return "cross-origin requests are refused";
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return "cross-site requests are refused";
  if (req.method !== "GET" && req.method !== "DELETE" && !(req.headers["content-type"] ?? "").startsWith("application/json")) {
    return "send JSON (Content-Type: application/json)";
  }
  return undefined;
}

async function api(req: IncomingMessage, res: ServerResponse, url: URL, method: string, ctx: Ctx): Promise<void> {
  const secrets: string[] = [];
  try {
    let parts: string[];
    try {
      parts = url.pathname.split("/").slice(2).map((p) => decodeURIComponent(p));
    } catch {
      throw new UsageError("the path is not valid");
    }
    const route = `${method} ${parts.map((p, i) => (i > 0 && parts[0] === "secrets" && (i === 1 || i === 2) ? ":" : p)).join("/")}`;
    switch (route) {
      case "GET context":
        sendJson(res, 200, ctx.identity);
        return;
      case "GET namespaces":
        sendJson(res, 200, { items: await namespaceNames(ctx.clients) });
        return;
      case "GET secrets":
        sendJson(res, 200, await listRegistrySecrets(ctx.clients, { allNamespaces: true }));
        return;
      case "POST secrets": {
        const body = await readJson(req);
        const form = createForm(body);
        secrets.push(form.password);
        const result = await createRegistrySecret(ctx.clients, {
          namespace: form.namespace, name: form.name,
          login: { server: form.server, username: form.username, password: form.password },
          export: form.exportAll ? { toNamespaces: ["*"] } : undefined,
        });
        // The answer names what was made; the credentials stay here.
        sendJson(res, 201, { namespace: form.namespace, name: form.name, done: result.done, warnings: result.warnings });
        return;
      }
      case "GET secrets/:/:": {
        const [, namespace = "", name = ""] = parts;
        checkNames(namespace, name);
        sendJson(res, 200, await secretStatus(ctx.clients, namespace, name));
        return;
      }
      case "POST secrets/:/:/export": {
        const [, namespace = "", name = ""] = parts;
        checkNames(namespace, name);
        const body = await readJson(req);
        const to = (body as { toNamespaces?: unknown }).toNamespaces;
        const toNamespaces = Array.isArray(to) && to.every((t) => typeof t === "string") ? to : ["*"];
        sendJson(res, 200, await exportSecret(ctx.clients, namespace, name, { toNamespaces }));
        return;
      }
      case "DELETE secrets/:/:/export": {
        const [, namespace = "", name = ""] = parts;
        checkNames(namespace, name);
        sendJson(res, 200, await unexportSecret(ctx.clients, namespace, name));
        return;
      }
      default:
        sendJson(res, 404, { error: { code: 404, reason: "NotFound", message: `no such console API: ${method} ${url.pathname}` } });
    }
  } catch (err) {
    const failure = failureOf(err, secrets);
    sendJson(res, failure.code >= 400 && failure.code < 600 ? failure.code : 502, { error: failure });
  }
}

interface CreateForm {
  namespace: string;
  name: string;
  server: string;
  username: string;
  password: string;
  exportAll: boolean;
}

function createForm(body: unknown): CreateForm {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const text = (key: string, label: string): string => {
    const v = b[key];
    if (typeof v !== "string" || v.trim() === "") throw new UsageError(`${label} is required`);
    return key === "password" ? v : v.trim();
  };
  const form: CreateForm = {
    namespace: text("namespace", "Namespace"),
    name: text("name", "Name"),
    server: text("server", "Registry URL"),
    username: text("username", "Username"),
    password: text("password", "Password"),
    exportAll: b.exportAll === true,
  };
  validateNamespaceName("Namespace", form.namespace);
  validateObjectName("Name", form.name);
  return form;
}

function checkNames(namespace: string, name: string): void {
  validateNamespaceName("the namespace", namespace);
  validateObjectName("the name", name);
}

/** An API server's error as it gave it; `console: true` marks what the console refused itself (bad input). */
function failureOf(err: unknown, secrets: readonly string[]): ApiFailure & { console?: true } {
  if (err instanceof UsageError) return { code: 400, reason: "Invalid", message: err.message, console: true };
  if (err instanceof CliError) return err.failure ?? { code: 400, reason: "Error", message: err.message, console: true };
  return apiFailure(err, secrets);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new UsageError("the request is too large");
    chunks.push(buf);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new UsageError("the request is not JSON");
  }
}

function hasCookie(req: IncomingMessage, token: string): boolean {
  const header = req.headers.cookie ?? "";
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE && same(v.join("="), token)) return true;
  }
  return false;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("cache-control", "no-store");
  res.setHeader("cross-origin-resource-policy", "same-origin");
  res.setHeader("cross-origin-opener-policy", "same-origin");
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) }).end(body);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  send(res, status, "text/plain; charset=utf-8", body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}
