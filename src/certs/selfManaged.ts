import { PatchStrategy, setHeaderOptions, type AdmissionregistrationV1Api, type CoreV1Api, type V1Secret } from "@kubernetes/client-node";
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/names.js";
import type { Logger } from "../observability/logger.js";
import { describeError, statusCodeOf } from "../observability/errors.js";
import { serviceDnsNames } from "./authority.js";
import { materialFromSecretData, planServingMaterial, secretDataFromMaterial, servingIdentity } from "./rotation.js";

const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const CHECK_EVERY_MS = 10 * 60_000;

export interface SelfManagedOptions {
  namespace: string;
  secretName: string;
  serviceName: string;
  webhookConfigName: string;
  extraNames: readonly string[];
}

/**
 * Cert mode self, run by the leader: makes sure the certificate Secret holds a valid CA and serving
 * certificate for the Service, renews them well before they expire, and keeps the caBundle of both
 * webhook configurations equal to the CA bundle. Replicas pick the Secret up through their watch.
 */
export class SelfManagedCertificates {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;

  constructor(private readonly core: CoreV1Api, private readonly admission: AdmissionregistrationV1Api,
    private readonly options: SelfManagedOptions, private readonly log: Logger) {}

  start(): void {
    if (this.timer) return;
    this.run();
    this.timer = setInterval(() => { this.run(); }, CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
  }

  /** The Secret changed (or went away): look again shortly, if this replica is the one keeping it. */
  poke(): void {
    this.retrySoon(500);
  }

  private retrySoon(delayMs: number): void {
    if (!this.timer || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.run();
    }, delayMs);
    this.soon.unref();
  }

  private run(): void {
    this.reconcile().catch((err: unknown) => { this.log.warn({ error: describeError(err) }, "certificate upkeep failed; retrying"); });
  }

  async reconcile(now = new Date()): Promise<void> {
    const { namespace, secretName } = this.options;
    const existing = await this.readSecret();
    const current = materialFromSecretData(existing?.data);
    const next = planServingMaterial(current, servingIdentity([...serviceDnsNames(this.options.serviceName, namespace), ...this.options.extraNames]), now);
    const material = next ?? current;
    if (next) {
      const body: V1Secret = {
        metadata: { name: secretName, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE }, ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}) },
        type: "kubernetes.io/tls",
        data: secretDataFromMaterial(next),
      };
      if (existing) await this.core.replaceNamespacedSecret({ namespace, name: secretName, body });
      else await this.core.createNamespacedSecret({ namespace, body });
      this.log.info({ secret: `${namespace}/${secretName}` }, existing ? "serving certificate renewed" : "serving certificate created");
    }
    if (material && !(await this.syncCaBundle(Buffer.from(material.caBundle).toString("base64")))) {
      // The webhook configurations are not there yet (regcred started before the chart made them):
      // look again soon rather than at the next periodic check.
      this.retrySoon(5000);
    }
  }

  private async readSecret(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace: this.options.namespace, name: this.options.secretName });
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Puts the CA bundle into both configurations; false when one of them does not exist. */
  private async syncCaBundle(caBundle: string): Promise<boolean> {
    const name = this.options.webhookConfigName;
    const patchFor = (webhooks: readonly { clientConfig: { caBundle?: string } }[] | undefined, rv: string | undefined): object[] => {
      const ops = (webhooks ?? []).flatMap((w, i) => (w.clientConfig.caBundle === caBundle ? [] : [{ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }]));
      return ops.length > 0 ? [{ op: "test", path: "/metadata/resourceVersion", value: rv }, ...ops] : [];
    };
    const mutating = await this.admission.readMutatingWebhookConfiguration({ name }).catch(notFound);
    const mPatch = mutating ? patchFor(mutating.webhooks, mutating.metadata?.resourceVersion) : [];
    if (mPatch.length > 0) await this.admission.patchMutatingWebhookConfiguration({ name, body: mPatch }, JSON_PATCH);
    const validating = await this.admission.readValidatingWebhookConfiguration({ name }).catch(notFound);
    const vPatch = validating ? patchFor(validating.webhooks, validating.metadata?.resourceVersion) : [];
    if (vPatch.length > 0) await this.admission.patchValidatingWebhookConfiguration({ name, body: vPatch }, JSON_PATCH);
    if (mPatch.length > 0 || vPatch.length > 0) this.log.info({ webhookConfiguration: name }, "caBundle updated");
    return mutating !== undefined && validating !== undefined;
  }
}

function notFound(err: unknown): undefined {
  if (statusCodeOf(err) === 404) return undefined;
  throw err;
}
