import type { VerificationMode } from "../config/settings.js";
import type { AccessCheck } from "../registry/access.js";

export type AccessDecision = { allowed: true; warnings: string[] } | { allowed: false; message: string };

function where(check: AccessCheck): string {
  if (check.registry && check.repository) return `${check.registry}/${check.repository}`;
  return check.registry ?? "the registry";
}

/**
 * The verification policy: Required denies unless proven read-only; BestEffort denies only what is
 * proven writable; DeclaredOnly trusts the declaration and probes nothing. A declared or proven
 * writable credential is denied in every mode.
 */
export function decideAccess(source: string, check: AccessCheck, mode: VerificationMode): AccessDecision {
  if (check.verdict === "Writable") {
    return {
      allowed: false,
      message: `regcred: the credentials of ${source} can write to ${where(check)} (found by ${check.method}: ${check.message}); only read-only credentials may be exported: use a pull-only token or robot account`,
    };
  }
  if (check.verdict === "ReadOnly") return { allowed: true, warnings: [] };
  if (mode === "Required") {
    return {
      allowed: false,
      message: `regcred: could not prove that the credentials of ${source} are read-only (${check.message}); verification.mode is Required, so the export is refused until a probe succeeds`,
    };
  }
  return { allowed: true, warnings: [`regcred: read-only access of ${source} not verified: ${check.message}`] };
}
