import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Namespace } from "@kubernetes/client-node";
import { decideNamespace } from "../admission/namespaces.js";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";
import type { TokenBucket } from "./rateLimit.js";

const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

/**
 * Backfills the `regcred.dev/inject` label on namespaces whose annotation the namespace webhook
 * never saw (they existed before regcred, or regcred was down: that webhook fails open). The same
 * decision as the webhook's, applied by the leader.
 */
export async function backfillNamespaceLabel(core: CoreV1Api, ns: V1Namespace, limiter: TokenBucket, log: Logger): Promise<void> {
  const { patch } = decideNamespace(ns, undefined);
  if (patch.length === 0) return;
  const name = ns.metadata?.name ?? "";
  await limiter.take();
  try {
    await core.patchNamespace({ name, body: [{ op: "test", path: "/metadata/resourceVersion", value: ns.metadata?.resourceVersion }, ...patch] }, JSON_PATCH);
    log.info({ namespace: name }, "opt-in label backfilled");
  } catch (err) {
    // A newer version of the namespace is on its way through the watch and will be looked at again.
    log.debug({ namespace: name, error: describeError(err) }, "opt-in label not backfilled");
  }
}
