import type { V1Secret } from "@kubernetes/client-node";
import type { OnRevoke } from "../api/types.js";
import {
  ANNOTATION_DATA_HASH, ANNOTATION_ON_REVOKE, ANNOTATION_SOURCE, ANNOTATION_SOURCE_RESOURCE_VERSION, LABEL_EXPORT, LABEL_EXPORT_NAMESPACE,
  LABEL_MANAGED_BY, MANAGED_BY_VALUE,
} from "../api/names.js";
import { copyName, dataHash, exportLabelValue } from "./naming.js";

/** What a copy of one export must look like in every namespace: computed once per source version. */
export interface CopyTemplate {
  exportNamespace: string;
  exportName: string;
  name: string;
  type: string;
  data: Record<string, string>;
  dataHash: string;
  sourceResourceVersion: string;
  onRevoke: OnRevoke;
}

export function copyTemplate(
  exportNamespace: string, exportName: string, type: string, data: Record<string, string>, sourceResourceVersion: string,
  onRevoke: OnRevoke,
): CopyTemplate {
  return {
    exportNamespace, exportName, name: copyName(exportNamespace, exportName), type, data,
    dataHash: dataHash(data), sourceResourceVersion, onRevoke,
  };
}

/** The Secret a copy is in `namespace`: the source's type and data, regcred's labels, nothing else of the source. */
export function copySecret(template: CopyTemplate, namespace: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: template.type,
    metadata: {
      name: template.name,
      namespace,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
        [LABEL_EXPORT_NAMESPACE]: template.exportNamespace,
        [LABEL_EXPORT]: exportLabelValue(template.exportName),
      },
      annotations: {
        [ANNOTATION_SOURCE]: `${template.exportNamespace}/${template.exportName}`,
        [ANNOTATION_SOURCE_RESOURCE_VERSION]: template.sourceResourceVersion,
        [ANNOTATION_DATA_HASH]: template.dataHash,
        [ANNOTATION_ON_REVOKE]: template.onRevoke,
      },
    },
    data: { ...template.data },
  };
}

/** Only Secrets that carry regcred's marks are ever changed or deleted by regcred. */
export function isRegcredCopy(secret: V1Secret): boolean {
  return secret.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_VALUE
    && typeof secret.metadata.annotations?.[ANNOTATION_SOURCE] === "string";
}

export function copyDataHash(secret: V1Secret): string | undefined {
  return secret.metadata?.annotations?.[ANNOTATION_DATA_HASH];
}

/** A copy is up to date when it holds the template's data, type and revocation policy. */
export function copyIsCurrent(secret: V1Secret, template: CopyTemplate): boolean {
  return copyDataHash(secret) === template.dataHash && secret.type === template.type
    && secret.metadata?.annotations?.[ANNOTATION_ON_REVOKE] === template.onRevoke;
}

/** The source a copy came from, `<namespace>/<name>`, from its annotation. */
export function copySourceKey(secret: V1Secret): string | undefined {
  return secret.metadata?.annotations?.[ANNOTATION_SOURCE];
}
