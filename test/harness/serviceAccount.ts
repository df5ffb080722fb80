/** Kubeconfigs that act as a ServiceAccount, for tests that need a caller without cluster-admin. */
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";

const TOKEN_EXPIRATION_SECONDS = 3600;

function isConflict(err: unknown): boolean {
  return err instanceof ApiException && err.code === 409;
}

/**
 * Creates `namespace` (if missing) and the ServiceAccount `name` in it (if missing), requests a 1 h token
 * for it with the TokenRequest API, and returns a KubeConfig that presents that bearer token to the
 * same API server, trusting the same CA, as the current context of `adminKc`.
 */
export async function serviceAccountKubeconfig(
  adminKc: KubeConfig,
  namespace: string,
  name: string,
): Promise<KubeConfig> {
  const cluster = adminKc.getCurrentCluster();
  if (cluster === null) throw new Error("the admin kubeconfig has no current cluster");
  const core = adminKc.makeApiClient(CoreV1Api);

  try {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds: TOKEN_EXPIRATION_SECONDS } },
  });
  const token = tokenRequest.status?.token;
  if (token === undefined || token === "") {
    throw new Error(`the TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
  }

  const userName = `system:serviceaccount:${namespace}:${name}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.server,
        caData: cluster.caData,
        caFile: cluster.caFile,
        tlsServerName: cluster.tlsServerName,
        skipTLSVerify: cluster.skipTLSVerify,
      },
    ],
    users: [{ name: userName, token }],
    contexts: [{ name: userName, cluster: cluster.name, user: userName, namespace }],
    currentContext: userName,
  });
  return kc;
}
