import { describe, it, expect } from "vitest";
import { ApiException } from "@kubernetes/client-node";
import { createLogger } from "../../src/observability/logger.js";
import { describeError, statusCodeOf } from "../../src/observability/errors.js";

/** A logger writing JSON lines into memory. */
function memoryLogger(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; text: () => string } {
  let out = "";
  const log = createLogger("debug", { write: (chunk: string) => { out += chunk; } });
  return {
    log,
    text: () => out,
    lines: () => out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SECRETS = [
  "S-data-top", "S-data-1", "S-data-2", "S-password-top", "S-password-1", "S-password-2", "S-auth-top", "S-auth-1", "S-auth-2",
  "S-token-top", "S-token-1", "S-token-2", "S-authz-top", "S-authz-1", "S-authz-2", "S-Authz-top", "S-Authz-1", "S-stringData-1",
  "S-identity-1", "S-identity-2", "S-registry-1", "S-object-1",
];

describe("createLogger", () => {
  it("writes JSON lines with a level name, a time and the app", () => {
    const { log, lines } = memoryLogger();
    log.info({ export: "registry-creds/harbor-ro" }, "copy created");
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ level: "info", app: "regcred", msg: "copy created", export: "registry-creds/harbor-ro" });
    expect(typeof lines()[0]?.time).toBe("string");
  });

  it("honours the level", () => {
    let out = "";
    const log = createLogger("warn", { write: (chunk: string) => { out += chunk; } });
    log.info("hidden");
    log.warn("shown");
    expect(out).not.toContain("hidden");
    expect(out).toContain("shown");
  });

  it("never writes data, password, auth, token or authorization values, at the top or nested a level or two", () => {
    const { log, text, lines } = memoryLogger();
    log.info({
      data: { ".dockerconfigjson": "S-data-top" },
      secret: { metadata: { name: "harbor-ro" }, data: { ".dockerconfigjson": "S-data-1" }, stringData: { x: "S-stringData-1" } },
      request: { object: { data: "S-object-1" } },
      event: { secret: { data: { k: "S-data-2" } } },
      password: "S-password-top",
      credential: { username: "robot", password: "S-password-1", identitytoken: "S-identity-1", registrytoken: "S-registry-1" },
      probe: { registry: { password: "S-password-2", identitytoken: "S-identity-2" } },
      auth: "S-auth-top",
      entry: { auth: "S-auth-1" },
      config: { auths: { auth: "S-auth-2" } },
      token: "S-token-top",
      response: { token: "S-token-1" },
      oauth: { grant: { token: "S-token-2" } },
      headers: { authorization: "S-authz-top", Authorization: "S-Authz-top" },
      req: { headers: { authorization: "S-authz-1", Authorization: "S-Authz-1" } },
      outer: { req: { headers: { authorization: "S-authz-2" } } },
    }, "everything");
    const out = text();
    for (const secret of SECRETS) expect(out, secret).not.toContain(secret);
    const line = lines()[0] ?? {};
    expect(line.secret).toMatchObject({ metadata: { name: "harbor-ro" }, data: "[redacted]" });
    expect(line.credential).toMatchObject({ username: "robot", password: "[redacted]" });
    expect(line.msg).toBe("everything");
  });

  it("redacts inside arrays of objects too", () => {
    const { log, text } = memoryLogger();
    log.info({ secrets: [{ name: "a", data: { k: "S-array-data" } }], creds: [{ password: "S-array-pw" }] }, "list");
    expect(text()).not.toContain("S-array-data");
    expect(text()).not.toContain("S-array-pw");
  });

  it("redacts in child loggers' bindings as well", () => {
    const { log, text } = memoryLogger();
    log.child({ token: "S-child-token" }).info("child");
    expect(text()).not.toContain("S-child-token");
  });
});

describe("describeError", () => {
  const body = JSON.stringify({ kind: "Status", message: "secrets \"regcred.a.b\" already exists", data: { x: "SECRET-IN-BODY" } });

  it("an ApiException-like object: the HTTP code and the Status message, nothing else of the body", () => {
    const described = describeError({ code: 409, body });
    expect(described).toBe("HTTP 409: secrets \"regcred.a.b\" already exists");
    expect(described).not.toContain("SECRET-IN-BODY");
  });

  it("the client library's ApiException: its message carries body and headers, which are left out", () => {
    const err = new ApiException(409, "Conflict", body, { authorization: "Bearer SECRET-TOKEN" });
    expect(err.message).toContain("SECRET-IN-BODY");
    const described = describeError(err);
    expect(described).toBe("HTTP 409: secrets \"regcred.a.b\" already exists");
    expect(described).not.toContain("SECRET");
  });

  it("a body already parsed, a body that is not JSON, no body", () => {
    expect(describeError({ code: 422, body: { message: "Secret is invalid\nsecond line SECRET" } })).toBe("HTTP 422: Secret is invalid");
    expect(describeError({ code: 500, body: "<html>SECRET</html>" })).toBe("HTTP 500");
    expect(describeError({ code: 503 })).toBe("HTTP 503");
    expect(describeError({ code: 400, body: '{"data":{"x":"SECRET"}}' })).toBe("HTTP 400");
  });

  it("keeps the Status message short", () => {
    expect(describeError({ code: 400, body: JSON.stringify({ message: "m".repeat(1000) }) }).length).toBeLessThanOrEqual("HTTP 400: ".length + 300);
  });

  it("a plain Error: its first line only", () => {
    const err = new Error(`HTTP-Code: 409\nMessage: Conflict\nBody: ${body}\nHeaders: {"authorization":"Bearer SECRET"}`);
    const described = describeError(err);
    expect(described).toBe("HTTP-Code: 409");
    expect(described).not.toContain("SECRET");
  });

  it("an Error subclass: its name; a system error: its name and code", () => {
    expect(describeError(new TypeError("Cannot read SECRET of undefined"))).toBe("TypeError");
    expect(describeError(Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }))).toBe("Error (ECONNREFUSED)");
  });

  it("anything else", () => {
    expect(describeError("SECRET string")).toBe("unknown error");
    expect(describeError(undefined)).toBe("unknown error");
    expect(describeError({ body })).toBe("unknown error");
  });

  it("statusCodeOf reads a numeric code only", () => {
    expect(statusCodeOf({ code: 404 })).toBe(404);
    expect(statusCodeOf({ code: "ENOTFOUND" })).toBeUndefined();
    expect(statusCodeOf(null)).toBeUndefined();
    expect(statusCodeOf(404)).toBeUndefined();
  });
});
