/**
 * The AdmissionReview the load generator sends: a ReplicaSet's pod as the API server hands it to a
 * mutating webhook. The pod is defaulted by the real API server (a server-side dry run in a
 * namespace that did not opt in, so no webhook of regcred's sees it), then stripped of what the
 * API server only fills in after mutating admission (name from generateName, uid, timestamps).
 */
import { randomUUID } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import type { Clients } from "../harness/fixtures.js";

export function replicaSetPod(image: string): V1Pod {
  const mount = { name: "kube-api-access-7xk2p", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true };
  return {
    metadata: {
      generateName: "web-7d9f8b6c5d-",
      labels: { app: "web", "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop", "pod-template-hash": "7d9f8b6c5d" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-30T09:12:44Z", "prometheus.io/scrape": "true", "prometheus.io/port": "9102" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f8b6c5d", uid: "5b0f6c1e-3f7a-4d0e-9a55-2d7c1f0b9e11", controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      serviceAccountName: "default",
      containers: [
        {
          name: "web", image,
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }, { name: "metrics", containerPort: 9102, protocol: "TCP" }],
          env: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "web-db", key: "url" } } },
          ],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 10, periodSeconds: 10 },
          securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
          volumeMounts: [{ name: "config", mountPath: "/etc/web" }, mount],
        },
        {
          name: "proxy", image: "docker.io/envoyproxy/envoy:v1.31.2",
          args: ["-c", "/etc/envoy/envoy.yaml"],
          ports: [{ name: "admin", containerPort: 9901, protocol: "TCP" }],
          resources: { requests: { cpu: "50m", memory: "64Mi" } },
          volumeMounts: [{ name: "envoy", mountPath: "/etc/envoy" }, mount],
        },
      ],
      volumes: [
        { name: "config", configMap: { name: "web-config" } },
        { name: "envoy", configMap: { name: "web-envoy" } },
        // What the ServiceAccount admission plugin adds before webhooks run (the test API server has it off).
        { name: mount.name, projected: { defaultMode: 420, sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
        ] } },
      ],
    },
  };
}

/** The pod after the API server's defaulting and built-in admission, as a webhook receives it. */
export async function defaultedPod(c: Clients, plainNamespace: string, image: string, options: { minimal?: boolean } = {}): Promise<V1Pod> {
  const body: V1Pod = options.minimal
    ? { metadata: { generateName: "web-" }, spec: { containers: [{ name: "web", image }] } }
    : replicaSetPod(image);
  const pod = await c.core.createNamespacedPod({ namespace: plainNamespace, body, dryRun: "All", fieldManager: "kube-controller-manager" });
  const meta = { ...pod.metadata };
  if (options.minimal) delete meta.managedFields;
  delete meta.name;
  delete meta.uid;
  delete meta.creationTimestamp;
  delete meta.resourceVersion;
  delete meta.namespace;
  return { apiVersion: "v1", kind: "Pod", ...pod, metadata: meta };
}

/** The AdmissionReview v1 JSON for a CREATE of `pod` in `namespace`. */
export function admissionReview(pod: V1Pod, namespace: string, uid: string = randomUUID()): string {
  const gvk = { group: "", version: "v1", kind: "Pod" };
  const gvr = { group: "", version: "v1", resource: "pods" };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid, kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr,
      namespace, operation: "CREATE",
      userInfo: {
        username: "system:serviceaccount:kube-system:replicaset-controller",
        uid: "9c1f4e0a-8d8e-4b8e-a8b1-0c6f0e4d2a77",
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      },
      object: { ...pod, metadata: { ...pod.metadata, namespace } },
      oldObject: null,
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "kube-controller-manager" },
    },
  });
}
