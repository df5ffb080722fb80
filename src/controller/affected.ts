import { exportEligibleFor, type InjectionPolicy, type NamespaceInfo } from "../admission/eligibility.js";
import type { ResolvedExportSpec } from "../api/types.js";

/** One export as the namespace decision reads it. */
export interface ExportTarget {
  namespace: string;
  name: string;
  spec: ResolvedExportSpec;
}

/**
 * The export keys (`<namespace>/<name>`) whose plan a change to namespace `ns` can alter, so that a
 * namespace event reconciles those rather than every export (each reconcile walks every namespace).
 * planExport reads a namespace only for eligibility, so two kinds are affected: exports eligible
 * for it now (an Eager copy to write, a copy to count), and exports with a copy in it (a copy to
 * revoke or stop counting, orphans included). An export that was eligible before the change and
 * had no copy there has nothing to undo. For a deleted namespace `ns` is its last known state.
 */
export function exportsAffectedByNamespace(
  ns: NamespaceInfo, exports: Iterable<ExportTarget>, copyKeys: Iterable<string>, policy: InjectionPolicy,
): Set<string> {
  const affected = new Set(copyKeys);
  for (const exp of exports) {
    // planExport never copies into the export's own namespace.
    if (exp.namespace === ns.name) continue;
    if (exportEligibleFor(exp.spec, exp.namespace, exp.name, ns, policy)) affected.add(`${exp.namespace}/${exp.name}`);
  }
  return affected;
}
