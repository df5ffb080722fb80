/** admission.k8s.io/v1 AdmissionReview: parsing what the API server sends, and shaping the answer. */

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  namespace?: string;
  name?: string;
  operation: Operation;
  subResource?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun: boolean;
  userInfo?: { username?: string };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patch?: string;
  patchType?: "JSONPatch";
  warnings?: string[];
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

const API_VERSION = "admission.k8s.io/v1";
const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];
/** The API server may cut longer warnings; keep each inside its limit. */
const MAX_WARNING = 256;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, message: "the body must be a JSON AdmissionReview object" };
  if (body.apiVersion !== API_VERSION || body.kind !== "AdmissionReview") {
    return { ok: false, message: `expected apiVersion "${API_VERSION}" and kind "AdmissionReview"; register the webhook with admissionReviewVersions: ["v1"]` };
  }
  const req = body.request;
  if (!isObject(req)) return { ok: false, message: "AdmissionReview.request is missing" };
  if (typeof req.uid !== "string" || req.uid === "") return { ok: false, message: "AdmissionReview.request.uid is missing" };
  if (typeof req.operation !== "string" || !OPERATIONS.includes(req.operation)) {
    return { ok: false, message: "AdmissionReview.request.operation must be CREATE, UPDATE, DELETE or CONNECT" };
  }
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== "string") return { ok: false, message: "AdmissionReview.request.kind is missing" };
  const request: AdmissionRequest = {
    uid: req.uid,
    kind: { group: stringOr(kind.group), version: stringOr(kind.version), kind: kind.kind },
    operation: req.operation as Operation,
    object: req.object ?? undefined,
    oldObject: req.oldObject ?? undefined,
    dryRun: req.dryRun === true,
  };
  if (typeof req.namespace === "string") request.namespace = req.namespace;
  if (typeof req.name === "string") request.name = req.name;
  if (typeof req.subResource === "string") request.subResource = req.subResource;
  if (isObject(req.userInfo) && typeof req.userInfo.username === "string") request.userInfo = { username: req.userInfo.username };
  return { ok: true, request };
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export function reviewOf(response: AdmissionResponse): object {
  return { apiVersion: API_VERSION, kind: "AdmissionReview", response };
}

function withWarnings(response: AdmissionResponse, warnings: readonly string[]): AdmissionResponse {
  if (warnings.length > 0) response.warnings = warnings.map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w));
  return response;
}

export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: true }, warnings);
}

export function allowWithPatch(uid: string, patchBase64: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: true, patch: patchBase64, patchType: "JSONPatch" }, warnings);
}

export function deny(uid: string, message: string, code = 403, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: false, status: { code, message, reason: code === 403 ? "Forbidden" : "InternalError" } }, warnings);
}
