/**
 * Results of single probes and how they add up. Pure.
 *
 * One probe answers for one registry and repository. A source is Writable when any probe proved a
 * write, ReadOnly when every probe proved it cannot write, and Unknown otherwise (some probe could
 * not tell, or nothing was probed).
 */
import type { AccessVerdict } from "../../api/types.js";
import type { AccessCheck } from "../access.js";

/** token-scope+upload: the token was opaque, so the upload probe ran with it. */
export type ProbeMethod = "token-scope" | "upload" | "token-scope+upload" | "none";

export interface ProbeResult {
  verdict: AccessVerdict;
  method: ProbeMethod;
  registry: string;
  /** Undefined when the registry could not be probed at all (down, TLS error, wildcard key, ...). */
  repository?: string;
  /** What was found out, for a person; never credential data. */
  reason: string;
}

export function combineResults(results: readonly ProbeResult[]): AccessCheck {
  const writable = results.find((r) => r.verdict === "Writable");
  if (writable) return toCheck(writable, writable.reason);
  if (results.length > 0 && results.every((r) => r.verdict === "ReadOnly")) {
    const methods = unique(results.map((r) => r.method));
    const where = results.map((r) => `${r.registry}/${r.repository ?? ""}`).join(", ");
    const first = results[0];
    return {
      verdict: "ReadOnly",
      method: methods.join("+"),
      message: `proven read-only by ${methods.join(" and ")} on ${where}: ${unique(results.map((r) => r.reason)).join("; ")}`,
      ...(first && results.length === 1 ? location(first) : {}),
      ...(first && unique(results.map((r) => r.registry)).length === 1 ? { registry: first.registry } : {}),
    };
  }
  const unknown = results.find((r) => r.verdict === "Unknown");
  if (!unknown) return { verdict: "Unknown", method: "none", message: "no registry of the source could be probed" };
  const others = results.filter((r) => r.verdict === "Unknown").length - 1;
  const more = others > 0 ? ` (and ${others} more probe(s) could not tell)` : "";
  return toCheck(unknown, `could not check ${describe(unknown)}: ${unknown.reason}${more}`);
}

function toCheck(r: ProbeResult, message: string): AccessCheck {
  return { verdict: r.verdict, method: r.method, message, ...location(r) };
}

function location(r: ProbeResult): { registry: string; repository?: string } {
  return r.repository === undefined ? { registry: r.registry } : { registry: r.registry, repository: r.repository };
}

function describe(r: ProbeResult): string {
  return r.repository === undefined ? r.registry : `${r.registry}/${r.repository}`;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
