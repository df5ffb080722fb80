/**
 * The user's own connection to the cluster, found the way kubectl finds it: `--kubeconfig`, else
 * $KUBECONFIG, else ~/.kube/config (else the in-cluster account); `--context` picks a context, and
 * the namespace is `-n`, else the context's, else "default". Everything the CLI and the console do
 * goes through these credentials, so Kubernetes RBAC decides what each person may do.
 */
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeClients, type KubeClients } from "../cluster/kube.js";
import { UsageError } from "./args.js";

export interface Connection {
  clients: KubeClients;
  /** The namespace a command acts on when -n is not given. */
  defaultNamespace: string;
  /** The API server's URL, for messages. */
  server: string;
}

export interface ConnectionOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export function connect(options: ConnectionOptions): Connection {
  const kc = new KubeConfig();
  if (options.kubeconfig !== undefined) {
    if (!existsSync(options.kubeconfig)) throw new UsageError(`--kubeconfig ${options.kubeconfig}: no such file`);
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (err) {
      throw new UsageError(`--kubeconfig ${options.kubeconfig} cannot be read: ${firstLine(err)}`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new UsageError(`the kubeconfig cannot be read: ${firstLine(err)}`);
    }
  }
  if (options.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      throw new UsageError(`context "${options.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
    }
    kc.setCurrentContext(options.context);
  }
  const server = kc.getCurrentCluster()?.server ?? "";
  if (server === "" || server === "http://localhost:8080") {
    throw new UsageError("no cluster is configured: pass --kubeconfig, set KUBECONFIG, or write ~/.kube/config");
  }
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { clients: kubeClients(kc), defaultNamespace: namespace && namespace !== "" ? namespace : "default", server };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split("\n", 1)[0] ?? "").slice(0, 200);
}
