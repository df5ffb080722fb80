/**
 * A short, credential-free description of an error for logs, warnings and Events.
 *
 * The client library's ApiException carries the response body and headers in its message; the body
 * of a failed Secret write can echo what was sent, so only the HTTP code and the API server's own
 * Status message are kept.
 */
export function describeError(err: unknown): string {
  const code = statusCodeOf(err);
  if (code !== undefined) {
    const reason = statusMessageOf(err);
    return reason ? `HTTP ${code}: ${reason}` : `HTTP ${code}`;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? `${err.name} (${code})` : err.name === "Error" ? firstLine(err.message) : err.name;
  }
  return "unknown error";
}

export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

function statusMessageOf(err: unknown): string | undefined {
  const body = (err as { body?: unknown }).body;
  const parsed = typeof body === "string" ? safeJson(body) : body;
  if (typeof parsed === "object" && parsed !== null) {
    const message = (parsed as { message?: unknown }).message;
    if (typeof message === "string") return firstLine(message).slice(0, 300);
  }
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}
