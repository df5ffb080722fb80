import type { CoreV1Api } from "@kubernetes/client-node";
import { EXPORT_API_VERSION, EXPORT_KIND } from "../api/names.js";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";

export type EventType = "Normal" | "Warning";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export function exportRef(namespace: string, name: string, uid?: string): ObjectRef {
  return { apiVersion: EXPORT_API_VERSION, kind: EXPORT_KIND, namespace, name, ...(uid ? { uid } : {}) };
}

/** The same event about the same object is not repeated within this window. */
const DEDUPE_MS = 5 * 60_000;
const MAX_MESSAGE = 1024;

/**
 * Records core/v1 Events. Messages are written by regcred itself and never carry credential data.
 * Repeats are dropped for a while, so a pod storm with a conflict makes one Event, not hundreds.
 */
export class EventRecorder {
  private readonly sent = new Map<string, number>();

  constructor(private readonly core: CoreV1Api, private readonly log: Logger, private readonly component = "regcred") {}

  record(ref: ObjectRef, type: EventType, reason: string, message: string): void {
    const key = `${ref.namespace}/${ref.kind}/${ref.name}/${reason}/${message}`;
    const now = Date.now();
    const last = this.sent.get(key);
    if (last !== undefined && now - last < DEDUPE_MS) return;
    this.sent.set(key, now);
    if (this.sent.size > 10_000) this.prune(now);
    const timestamp = new Date(now);
    this.core.createNamespacedEvent({
      namespace: ref.namespace,
      body: {
        metadata: { generateName: `${ref.name}.`, namespace: ref.namespace },
        involvedObject: { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name, ...(ref.uid ? { uid: ref.uid } : {}) },
        type, reason, message: message.slice(0, MAX_MESSAGE),
        source: { component: this.component },
        firstTimestamp: timestamp, lastTimestamp: timestamp, count: 1,
      },
    }).catch((err: unknown) => {
      this.log.warn({ reason, object: `${ref.namespace}/${ref.name}`, error: describeError(err) }, "could not record event");
    });
  }

  private prune(now: number): void {
    for (const [key, at] of this.sent) if (now - at >= DEDUPE_MS) this.sent.delete(key);
  }
}
