import type { V1Namespace } from "@kubernetes/client-node";
import type { Operation } from "fast-json-patch";
import { ANNOTATION_INJECT, LABEL_INJECT } from "../api/names.js";
import { escapePointer } from "./patch.js";

export interface NamespaceDecision {
  patch: Operation[];
  warnings: string[];
}

const MEANINGFUL = new Set(["true", "false"]);
const LABEL_PATH = `/metadata/labels/${escapePointer(LABEL_INJECT)}`;

/**
 * Mirror the `regcred.dev/inject` annotation into the label of the same name, so the pod webhook's
 * namespaceSelector can filter on it. Removing the annotation removes the label it had put there;
 * a label set on its own, with no annotation ever, is the owner's and is left alone.
 */
export function decideNamespace(ns: V1Namespace, old: V1Namespace | undefined): NamespaceDecision {
  const annotation = ns.metadata?.annotations?.[ANNOTATION_INJECT];
  const labels = ns.metadata?.labels;
  const label = labels?.[LABEL_INJECT];
  if (annotation === undefined) {
    const oldAnnotation = old?.metadata?.annotations?.[ANNOTATION_INJECT];
    if (oldAnnotation !== undefined && label !== undefined && label === oldAnnotation) {
      return { patch: [{ op: "remove", path: LABEL_PATH }], warnings: [] };
    }
    return { patch: [], warnings: [] };
  }
  if (!MEANINGFUL.has(annotation)) {
    return {
      patch: [],
      warnings: [`regcred: annotation ${ANNOTATION_INJECT} is "${annotation.slice(0, 40)}"; use "true" to opt in or "false" to opt out`],
    };
  }
  if (label === annotation) return { patch: [], warnings: [] };
  if (labels === undefined) {
    return { patch: [{ op: "add", path: "/metadata/labels", value: { [LABEL_INJECT]: annotation } }], warnings: [] };
  }
  return { patch: [{ op: "add", path: LABEL_PATH, value: annotation }], warnings: [] };
}
