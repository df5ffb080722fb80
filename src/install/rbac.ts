import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadYaml, RbacAuthorizationV1Api, type KubeConfig, type V1PolicyRule } from "@kubernetes/client-node";
import { statusCodeOf } from "../observability/errors.js";

const RBAC_FILE = fileURLToPath(new URL("../../charts/regcred/files/rbac.yaml", import.meta.url));

export interface RbacRules {
  clusterRules: V1PolicyRule[];
  namespaceRules: V1PolicyRule[];
  webhookConfigurationRules: V1PolicyRule[];
}

/** The permissions regcred needs: the same list the chart renders. */
export function loadRbacRules(file = RBAC_FILE): RbacRules {
  return loadYaml(readFileSync(file, "utf8"));
}

async function upsert(create: () => Promise<unknown>, replace: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (statusCodeOf(err) !== 409) throw err;
    await replace();
  }
}

/**
 * Grants a ServiceAccount exactly regcred's permissions: a ClusterRole and a Role in its namespace,
 * with their bindings, named `name`. For running regcred outside the chart (tests, `npm start`).
 * With `webhookConfigName`, also what cert mode self needs on those webhook configurations.
 */
export async function applyRbac(kc: KubeConfig, name: string, namespace: string, serviceAccount: string,
  options: { webhookConfigName?: string } = {}, rules = loadRbacRules()): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const subjects = [{ kind: "ServiceAccount", name: serviceAccount, namespace }];
  const roleRef = (kind: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });
  const webhookRules = options.webhookConfigName
    ? rules.webhookConfigurationRules.map((r) => ({ ...r, resourceNames: [options.webhookConfigName ?? ""] }))
    : [];
  const clusterRole = { metadata: { name }, rules: [...rules.clusterRules, ...webhookRules] };
  const clusterBinding = { metadata: { name }, roleRef: roleRef("ClusterRole"), subjects };
  const role = { metadata: { name, namespace }, rules: rules.namespaceRules };
  const binding = { metadata: { name, namespace }, roleRef: roleRef("Role"), subjects };
  await upsert(() => rbac.createClusterRole({ body: clusterRole }), () => rbac.replaceClusterRole({ name, body: clusterRole }));
  await upsert(() => rbac.createClusterRoleBinding({ body: clusterBinding }), () => rbac.replaceClusterRoleBinding({ name, body: clusterBinding }));
  await upsert(() => rbac.createNamespacedRole({ namespace, body: role }), () => rbac.replaceNamespacedRole({ name, namespace, body: role }));
  await upsert(() => rbac.createNamespacedRoleBinding({ namespace, body: binding }), () => rbac.replaceNamespacedRoleBinding({ name, namespace, body: binding }));
}
