import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, AdmissionregistrationV1Api,
} from "@kubernetes/client-node";

/** The API clients regcred uses, all from one KubeConfig. */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  admissionRegistration: AdmissionregistrationV1Api;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    admissionRegistration: kc.makeApiClient(AdmissionregistrationV1Api),
  };
}

/** KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl finds them. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** Whether a KubeConfig names a cluster at all (loadFromDefault falls back to localhost:8080). */
export function hasCluster(kc: KubeConfig): boolean {
  const server = kc.getCurrentCluster()?.server;
  return server !== undefined && server !== "" && server !== "http://localhost:8080";
}
