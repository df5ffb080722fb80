import { describe, it, expect } from "vitest";
import { decideAccess } from "../../src/admission/accessPolicy.js";
import type { VerificationMode } from "../../src/config/settings.js";
import { declaredAccess, declaredOnlyChecker } from "../../src/registry/access.js";
import type { AccessCheck, AccessSubject } from "../../src/registry/access.js";

const MODES: VerificationMode[] = ["Required", "BestEffort", "DeclaredOnly"];
const SOURCE = "registry-creds/harbor-ro";

const writable: AccessCheck = {
  verdict: "Writable", method: "token-scope", message: "the token service granted push", registry: "harbor.example.com", repository: "team-a/app",
};
const readOnly: AccessCheck = { verdict: "ReadOnly", method: "token-scope", message: "pull only", registry: "harbor.example.com", repository: "team-a/app" };
const unknown: AccessCheck = { verdict: "Unknown", method: "none", message: "the registry did not answer in time" };

describe("decideAccess", () => {
  it.each(MODES)("%s: writable credentials are denied, naming registry, repository and method", (mode) => {
    const decision = decideAccess(SOURCE, writable, mode);
    if (decision.allowed) throw new Error("expected a denial");
    expect(decision.message).toMatch(/^regcred: /);
    expect(decision.message).toContain(SOURCE);
    expect(decision.message).toContain("harbor.example.com/team-a/app");
    expect(decision.message).toContain("token-scope");
    expect(decision.message).toContain("the token service granted push");
    expect(decision.message).toMatch(/read-only/);
  });

  it("names the registry alone, or 'the registry', when that is all that is known", () => {
    const noRepo = decideAccess(SOURCE, { verdict: "Writable", method: "upload", message: "202", registry: "zot.local:5000" }, "BestEffort");
    const nothing = decideAccess(SOURCE, { verdict: "Writable", method: "declared", message: "annotated" }, "BestEffort");
    expect(!noRepo.allowed && noRepo.message).toContain("write to zot.local:5000 ");
    expect(!nothing.allowed && nothing.message).toContain("write to the registry ");
  });

  it.each(MODES)("%s: read-only credentials are allowed without warnings", (mode) => {
    expect(decideAccess(SOURCE, readOnly, mode)).toEqual({ allowed: true, warnings: [] });
  });

  it("Required: unknown is denied, saying why", () => {
    const decision = decideAccess(SOURCE, unknown, "Required");
    if (decision.allowed) throw new Error("expected a denial");
    expect(decision.message).toMatch(/^regcred: /);
    expect(decision.message).toContain("Required");
    expect(decision.message).toContain(unknown.message);
  });

  it.each(["BestEffort", "DeclaredOnly"] as const)("%s: unknown is allowed with one regcred: warning", (mode) => {
    const decision = decideAccess(SOURCE, unknown, mode);
    if (!decision.allowed) throw new Error(decision.message);
    expect(decision.warnings).toHaveLength(1);
    expect(decision.warnings[0]).toMatch(/^regcred: /);
    expect(decision.warnings[0]).toContain(SOURCE);
    expect(decision.warnings[0]).toContain(unknown.message);
  });
});

describe("declaredAccess", () => {
  it("read-write is Writable, declared", () => {
    expect(declaredAccess({ "regcred.dev/access": "read-write" })).toMatchObject({ verdict: "Writable", method: "declared" });
  });

  it("read-only is ReadOnly, declared", () => {
    expect(declaredAccess({ "regcred.dev/access": "read-only" })).toMatchObject({ verdict: "ReadOnly", method: "declared" });
  });

  it.each([[{}], [{ "regcred.dev/access": "readonly" }], [{ "regcred.dev/access": "" }], [{ "other/access": "read-only" }]])(
    "%j declares nothing", (annotations) => {
      expect(declaredAccess(annotations)).toBeUndefined();
    },
  );

  it("a read-write declaration is denied in every mode", () => {
    const declared = declaredAccess({ "regcred.dev/access": "read-write" });
    if (!declared) throw new Error("expected a declaration");
    for (const mode of MODES) expect(decideAccess(SOURCE, declared, mode).allowed).toBe(false);
  });
});

describe("declaredOnlyChecker", () => {
  const subject = (annotations: Record<string, string>): AccessSubject => ({
    namespace: "registry-creds", name: "harbor-ro", resourceVersion: "1", annotations, repositories: [],
    credentials: [{ key: "harbor.example.com", username: "robot", password: "s3cr3t-pw" }],
  });

  it("returns the declaration", async () => {
    await expect(declaredOnlyChecker.check(subject({ "regcred.dev/access": "read-only" }), 100)).resolves.toMatchObject({ verdict: "ReadOnly", method: "declared" });
    await expect(declaredOnlyChecker.check(subject({ "regcred.dev/access": "read-write" }), 100)).resolves.toMatchObject({ verdict: "Writable", method: "declared" });
  });

  it("without one: Unknown, method none, saying how to declare, and no credential in the message", async () => {
    const check = await declaredOnlyChecker.check(subject({}), 100);
    expect(check).toMatchObject({ verdict: "Unknown", method: "none" });
    expect(check.message).toContain("regcred.dev/access: read-only");
    expect(check.message).not.toContain("s3cr3t-pw");
    expect(decideAccess(SOURCE, check, "Required").allowed).toBe(false);
    expect(decideAccess(SOURCE, check, "DeclaredOnly").allowed).toBe(true);
  });
});
