import { describe, it, expect } from "vitest";
import { allow, allowWithPatch, deny, parseAdmissionReview, reviewOf } from "../../src/admission/review.js";
import type { ParsedReview } from "../../src/admission/review.js";

function review(request: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request, ...extra };
}

const request = {
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  kind: { group: "", version: "v1", kind: "Pod" },
  resource: { group: "", version: "v1", resource: "pods" },
  namespace: "team-a",
  name: "web",
  operation: "CREATE",
  userInfo: { username: "alice", groups: ["dev"] },
  object: { metadata: { name: "web" } },
};

function failure(parsed: ParsedReview): string {
  if (parsed.ok) throw new Error("expected a parse failure");
  return parsed.message;
}

describe("parseAdmissionReview: well-formed", () => {
  it("reads the request", () => {
    const parsed = parseAdmissionReview(review({ ...request, dryRun: true, subResource: "status", oldObject: { a: 1 } }));
    expect(parsed).toEqual({
      ok: true,
      request: {
        uid: request.uid, kind: { group: "", version: "v1", kind: "Pod" }, namespace: "team-a", name: "web",
        operation: "CREATE", subResource: "status", object: { metadata: { name: "web" } }, oldObject: { a: 1 },
        dryRun: true, userInfo: { username: "alice" },
      },
    });
  });

  it.each([[undefined], [false], ["true"], [1]])("dryRun %j is read as false", (dryRun) => {
    const parsed = parseAdmissionReview(review({ ...request, dryRun }));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.request.dryRun).toBe(false);
  });

  it.each(["CREATE", "UPDATE", "DELETE", "CONNECT"])("accepts operation %s", (operation) => {
    expect(parseAdmissionReview(review({ ...request, operation })).ok).toBe(true);
  });

  it("a null oldObject (as on CREATE) becomes undefined", () => {
    const parsed = parseAdmissionReview(review({ ...request, oldObject: null }));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.request.oldObject).toBeUndefined();
  });

  it("defaults a missing group and version of request.kind to empty strings", () => {
    const parsed = parseAdmissionReview(review({ ...request, kind: { kind: "Namespace" } }));
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.request.kind).toEqual({ group: "", version: "", kind: "Namespace" });
  });
});

describe("parseAdmissionReview: malformed", () => {
  it.each([[null], ["a string"], [42], [[1, 2]], [undefined]])("body %j is not an object", (body) => {
    expect(failure(parseAdmissionReview(body))).toMatch(/JSON AdmissionReview object/);
  });

  it("wrong apiVersion names the expected one and how to register the webhook", () => {
    const message = failure(parseAdmissionReview(review(request, { apiVersion: "admission.k8s.io/v1beta1" })));
    expect(message).toContain("admission.k8s.io/v1");
    expect(message).toContain("admissionReviewVersions");
  });

  it("wrong kind", () => {
    expect(failure(parseAdmissionReview(review(request, { kind: "Pod" })))).toMatch(/kind "AdmissionReview"/);
  });

  it.each([[undefined], [null], ["x"], [[request]]])("request %j is missing", (req) => {
    expect(failure(parseAdmissionReview(review(req)))).toMatch(/request is missing/);
  });

  it.each([[undefined], [""], [7]])("request.uid %j is missing", (uid) => {
    expect(failure(parseAdmissionReview(review({ ...request, uid })))).toMatch(/request\.uid is missing/);
  });

  it.each([[undefined], ["PATCH"], ["create"], [1]])("operation %j is refused", (operation) => {
    expect(failure(parseAdmissionReview(review({ ...request, operation })))).toMatch(/operation must be CREATE, UPDATE, DELETE or CONNECT/);
  });

  it.each([[undefined], ["Pod"], [{ group: "", version: "v1" }], [{ kind: 3 }]])("request.kind %j is missing", (kind) => {
    expect(failure(parseAdmissionReview(review({ ...request, kind })))).toMatch(/request\.kind is missing/);
  });
});

describe("responses", () => {
  it("allow: uid, allowed, no warnings field when there are none", () => {
    expect(allow("u1")).toEqual({ uid: "u1", allowed: true });
    expect(Object.keys(allow("u1"))).not.toContain("warnings");
    expect(allow("u1", ["regcred: a"])).toEqual({ uid: "u1", allowed: true, warnings: ["regcred: a"] });
  });

  it("allowWithPatch: a JSONPatch", () => {
    expect(allowWithPatch("u2", "W10=", ["regcred: w"])).toEqual({ uid: "u2", allowed: true, patch: "W10=", patchType: "JSONPatch", warnings: ["regcred: w"] });
  });

  it("deny: 403 Forbidden by default, InternalError for other codes", () => {
    expect(deny("u3", "no")).toEqual({ uid: "u3", allowed: false, status: { code: 403, message: "no", reason: "Forbidden" } });
    expect(deny("u3", "broke", 500)).toEqual({ uid: "u3", allowed: false, status: { code: 500, message: "broke", reason: "InternalError" } });
    expect(deny("u3", "no", 403, ["regcred: w"]).warnings).toEqual(["regcred: w"]);
  });

  it("cuts warnings longer than 256 characters to 256, marking the cut", () => {
    const long = `regcred: ${"x".repeat(400)}`;
    const exact = `regcred: ${"y".repeat(256 - 9)}`;
    const warnings = allow("u", [long, exact, "regcred: short"]).warnings ?? [];
    expect(warnings[0]).toHaveLength(256);
    expect(warnings[0]?.endsWith("…")).toBe(true);
    expect(warnings[0]?.startsWith("regcred: xxx")).toBe(true);
    expect(warnings[1]).toBe(exact);
    expect(warnings[2]).toBe("regcred: short");
    expect(allowWithPatch("u", "", [long]).warnings?.[0]).toHaveLength(256);
    expect(deny("u", "m", 403, [long]).warnings?.[0]).toHaveLength(256);
  });

  it("reviewOf wraps a response in an admission.k8s.io/v1 AdmissionReview", () => {
    expect(reviewOf(allow("u9"))).toEqual({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u9", allowed: true } });
  });
});
