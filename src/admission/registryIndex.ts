/**
 * Exports by the registry hosts their keys name, so that admitting a pod costs the same with 5
 * exports or 500: a pod's images name a host or two, and only the exports with a key for those
 * hosts (or a `*` key) can match. Built once per list of admissible exports (the caches rebuild that
 * list only when an export or source changes) and kept as long as that list is.
 */
import { ANY_HOST, registryHostOf } from "../registry/keyring.js";
import type { DistributableExport } from "./pods.js";

interface RegistryIndex {
  /** Positions in the export list, by host; ANY_HOST holds the exports with a wildcard key. */
  byHost: Map<string, number[]>;
}

const indexes = new WeakMap<readonly DistributableExport[], RegistryIndex>();

function indexOf(exports: readonly DistributableExport[]): RegistryIndex {
  let index = indexes.get(exports);
  if (index) return index;
  index = { byHost: new Map() };
  exports.forEach((exp, position) => {
    const hosts = new Set(exp.registryKeys.map(registryHostOf).filter((h): h is string => h !== undefined));
    for (const host of hosts) {
      const list = index.byHost.get(host);
      if (list) list.push(position);
      else index.byHost.set(host, [position]);
    }
  });
  indexes.set(exports, index);
  return index;
}

/**
 * The exports with a key that may match an image of one of these registries (`image.registry` of
 * each image), in their order in `exports`. Every export that matches is among them; the caller
 * still matches each key against each image.
 */
export function exportsForRegistries(exports: readonly DistributableExport[], registries: readonly string[]): DistributableExport[] {
  const { byHost } = indexOf(exports);
  const lists: number[][] = [];
  const wildcard = byHost.get(ANY_HOST);
  if (wildcard) lists.push(wildcard);
  for (const host of new Set(registries.map(registryHostOf))) {
    const list = host === undefined ? undefined : byHost.get(host);
    if (list) lists.push(list);
  }
  const at = (p: number): DistributableExport => exports[p] as DistributableExport;
  // The common case, every image on one registry and no wildcard key, needs no merging.
  if (lists.length <= 1) return (lists[0] ?? []).map(at);
  return [...new Set(lists.flat())].sort((a, b) => a - b).map(at);
}
