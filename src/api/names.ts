/** The API group, labels, annotations and finalizer of the contract (SPEC.md). One place, so no string drifts. */
export const GROUP = "regcred.dev";
export const VERSION = "v1alpha1";
export const EXPORT_KIND = "PullSecretExport";
export const EXPORT_PLURAL = "pullsecretexports";
export const EXPORT_API_VERSION = `${GROUP}/${VERSION}`;

export const ANNOTATION_INJECT = "regcred.dev/inject";
export const LABEL_INJECT = "regcred.dev/inject";
export const ANNOTATION_NAMESPACE_EXPORTS = "regcred.dev/exports";
export const ANNOTATION_SKIP = "regcred.dev/skip";
export const ANNOTATION_INJECTED = "regcred.dev/injected";
export const ANNOTATION_ACCESS = "regcred.dev/access";

export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "regcred";
export const LABEL_EXPORT_NAMESPACE = "regcred.dev/export-namespace";
export const LABEL_EXPORT = "regcred.dev/export";
export const ANNOTATION_SOURCE = "regcred.dev/source";
export const ANNOTATION_SOURCE_RESOURCE_VERSION = "regcred.dev/source-resource-version";
export const ANNOTATION_DATA_HASH = "regcred.dev/data-hash";

export const LABEL_EXPORTED = "regcred.dev/exported";
export const FINALIZER_REVOKE_COPIES = "regcred.dev/revoke-copies";

export const SECRET_TYPE_DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson";
export const SECRET_TYPE_DOCKERCFG = "kubernetes.io/dockercfg";
export const DOCKERCONFIGJSON_KEY = ".dockerconfigjson";
export const DOCKERCFG_KEY = ".dockercfg";

/** Namespaces regcred never injects into, whatever their annotations say. */
export const ALWAYS_EXCLUDED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** On each copy: the export's onRevoke when it was written, so a copy outliving its export is still handled as its owner asked. */
export const ANNOTATION_ON_REVOKE = "regcred.dev/on-revoke";
