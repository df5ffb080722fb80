/**
 * What the caches keep of each object. A cache holds every namespace and every copy in the cluster,
 * so what they keep is most of regcred's memory in a large cluster (docs/benchmarks.md, section 4).
 * Objects from a list arrive as the client library's model instances, with a property for every
 * field of the schema, set or not; those from a watch arrive as parsed JSON. Both are kept as plain
 * objects of the fields that are set.
 */
import type { KubernetesObject, V1ObjectMeta } from "@kubernetes/client-node";

export type Slim<T> = (obj: T) => T;

/** Everything but metadata.managedFields, which nothing in regcred reads (as client-go informers are usually set up). */
export function withoutManagedFields<T>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  if (meta && "managedFields" in meta) delete meta.managedFields;
  return obj;
}

/** The metadata fields regcred reads of a copy or a namespace. */
const KEPT_METADATA = ["name", "namespace", "uid", "resourceVersion", "labels", "annotations", "finalizers", "deletionTimestamp"] as const;

function keptMetadata(meta: V1ObjectMeta | undefined): V1ObjectMeta {
  const out: Record<string, unknown> = {};
  if (!meta) return out;
  for (const field of KEPT_METADATA) if (meta[field] !== undefined) out[field] = meta[field];
  return out;
}

/**
 * A copy as the cache keeps it: its metadata and type, not its data. Whether a copy is current is
 * read from its data-hash annotation (src/copies/desired.ts), and a write sends the whole desired
 * Secret, so the cache never needs the credentials a second time.
 */
export function slimCopy<T extends KubernetesObject & { type?: string }>(copy: T): T {
  const out: KubernetesObject & { type?: string } = { metadata: keptMetadata(copy.metadata) };
  if (copy.apiVersion !== undefined) out.apiVersion = copy.apiVersion;
  if (copy.kind !== undefined) out.kind = copy.kind;
  if (copy.type !== undefined) out.type = copy.type;
  return out as T;
}

/** A namespace as the cache keeps it: name, labels, annotations and whether it is being deleted. */
export function slimNamespace<T extends KubernetesObject>(ns: T): T {
  const out: KubernetesObject = { metadata: keptMetadata(ns.metadata) };
  if (ns.apiVersion !== undefined) out.apiVersion = ns.apiVersion;
  if (ns.kind !== undefined) out.kind = ns.kind;
  return out as T;
}
