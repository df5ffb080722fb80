/**
 * Errors from the API server, as the API server gave them (code, reason, message of its Status),
 * for the CLI (`Error from server (Forbidden): …`, as kubectl prints it) and the console.
 *
 * Nothing else of the error is kept: the client library's exception carries the request's response
 * headers and body. Values the caller names as secret are masked in what is kept, as a second line of
 * defence (the API server does not echo Secret data, but a message is never trusted to hold none).
 */
import { ApiException } from "@kubernetes/client-node";

export interface ApiFailure {
  /** HTTP status, or 0 when no answer came. */
  code: number;
  /** The Status reason (NotFound, Forbidden, AlreadyExists, Invalid…), or a short cause of a network failure. */
  reason: string;
  message: string;
}

export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode = 1, readonly failure?: ApiFailure) {
    super(message);
  }
}

/** A CliError for an error of the API server, with its Status kept for the console. */
export function apiCliError(err: unknown, secrets: readonly string[] = [], extra = ""): CliError {
  const failure = apiFailure(err, secrets);
  return new CliError(`${formatFailure(failure)}${extra}`, 1, { ...failure, message: `${failure.message}${extra}` });
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "the connection was refused",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
  ECONNRESET: "the connection was closed",
  ETIMEDOUT: "no answer in time",
  EHOSTUNREACH: "the host cannot be reached",
  CERT_HAS_EXPIRED: "the API server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the API server's certificate is not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "the API server's certificate is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the API server's certificate is not trusted",
};

export function apiFailure(err: unknown, secrets: readonly string[] = []): ApiFailure {
  if (err instanceof ApiException) {
    const status = statusBody(err.body);
    const reason = typeof status?.reason === "string" && status.reason !== "" ? status.reason : reasonForCode(err.code);
    const message = typeof status?.message === "string" && status.message !== "" ? status.message : `HTTP ${err.code}`;
    return { code: err.code, reason, message: mask(message, secrets) };
  }
  const code = errorCode(err);
  if (code !== undefined) {
    return { code: 0, reason: "Unreachable", message: `cannot reach the API server: ${NETWORK_CODES[code] ?? code}` };
  }
  const message = err instanceof Error ? (err.message.split("\n", 1)[0] ?? "") : "unknown error";
  return { code: 0, reason: "Error", message: mask(message.slice(0, 500), secrets) };
}

/** kubectl's spelling: `Error from server (NotFound): secrets "x" not found`. */
export function formatFailure(f: ApiFailure): string {
  return f.code === 0 ? `error: ${f.message}` : `Error from server (${f.reason}): ${f.message}`;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof ApiException && err.code === 403;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}

/** Replaces each secret value (and its base64) in a text with `***`. */
export function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of [secret, Buffer.from(secret).toString("base64")]) out = out.split(form).join("***");
  }
  return out;
}

function statusBody(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  return typeof parsed === "object" && parsed !== null ? parsed : undefined;
}

function reasonForCode(code: number): string {
  const reasons: Record<number, string> = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Gone", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
  };
  return reasons[code] ?? `HTTP${code}`;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}
