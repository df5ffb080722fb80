import type { AccessVerdict } from "../api/types.js";
import { ANNOTATION_ACCESS } from "../api/names.js";
import type { RegistryCredential } from "./dockerConfig.js";

/** What regcred found out about whether a source's credentials can write to a registry. */
export interface AccessCheck {
  verdict: AccessVerdict;
  /** How it was found out: declared, token-scope, upload, none. */
  method: string;
  /** A sentence a person can act on; never contains credential data. */
  message: string;
  registry?: string;
  repository?: string;
}

export interface AccessSubject {
  namespace: string;
  name: string;
  resourceVersion: string;
  annotations: Readonly<Record<string, string>>;
  credentials: readonly RegistryCredential[];
  repositories: readonly string[];
}

/** Finds out whether credentials can write. Network probes implement this too (see the registry probes). */
export interface AccessChecker {
  check(subject: AccessSubject, budgetMs: number): Promise<AccessCheck>;
}

/** The owner's declaration on the source secret, `regcred.dev/access`. */
export function declaredAccess(annotations: Readonly<Record<string, string>>): AccessCheck | undefined {
  const declared = annotations[ANNOTATION_ACCESS];
  if (declared === "read-write") {
    return {
      verdict: "Writable", method: "declared",
      message: `the source secret is annotated ${ANNOTATION_ACCESS}: read-write`,
    };
  }
  if (declared === "read-only") {
    return { verdict: "ReadOnly", method: "declared", message: `the source secret is annotated ${ANNOTATION_ACCESS}: read-only` };
  }
  return undefined;
}

/** DeclaredOnly: no network probes; the declaration is all there is to go on. */
export const declaredOnlyChecker: AccessChecker = {
  check(subject: AccessSubject): Promise<AccessCheck> {
    return Promise.resolve(declaredAccess(subject.annotations) ?? {
      verdict: "Unknown", method: "none",
      message: `no probe ran and the source declares nothing; annotate it ${ANNOTATION_ACCESS}: read-only once you have checked`,
    });
  },
};
