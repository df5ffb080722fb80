import type { Server } from "node:https";
import type { KubeConfig, CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { ResilientInformer } from "../cluster/informer.js";
import type { Logger } from "../observability/logger.js";
import { describeError } from "../observability/errors.js";

/**
 * Serves the certificate of one Secret (`tls.crt`, `tls.key`) and follows it: a renewed certificate
 * reaches every replica through the watch and is swapped in with setSecureContext, no restart, no
 * request dropped. Until the Secret holds a pair, `loaded` is false and /readyz says so.
 */
export class SecretCertificate {
  private readonly informer: ResilientInformer<V1Secret>;
  private lastPair = "";
  loaded = false;

  constructor(kc: KubeConfig, core: CoreV1Api, private readonly server: Server, namespace: string, name: string,
    private readonly log: Logger, onChange: () => void = () => undefined) {
    this.informer = new ResilientInformer<V1Secret>(kc, `/api/v1/namespaces/${namespace}/secrets`,
      (labelSelector, fieldSelector) => core.listNamespacedSecret({ namespace, labelSelector, fieldSelector }), log, { fieldSelector: `metadata.name=${name}` });
    this.informer.onChange((secret) => {
      this.apply(secret);
      onChange();
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  private apply(secret: V1Secret): void {
    const cert = Buffer.from(secret.data?.["tls.crt"] ?? "", "base64").toString("utf8");
    const key = Buffer.from(secret.data?.["tls.key"] ?? "", "base64").toString("utf8");
    if (!cert || !key || cert + key === this.lastPair) return;
    try {
      this.server.setSecureContext({ cert, key });
      this.lastPair = cert + key;
      this.loaded = true;
      this.log.info({ secret: secret.metadata?.name }, "serving certificate loaded from its Secret");
    } catch (err) {
      this.log.warn({ secret: secret.metadata?.name, error: describeError(err) }, "the certificate Secret does not hold a valid pair; keeping the current one");
    }
  }
}
