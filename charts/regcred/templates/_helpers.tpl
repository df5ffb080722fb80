{{/* Name of every object of the release. */}}
{{- define "regcred.fullname" -}}
{{- if contains "regcred" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-regcred" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "regcred.labels" -}}
app.kubernetes.io/name: regcred
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: regcred
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "regcred.selectorLabels" -}}
app.kubernetes.io/name: regcred
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "regcred.tlsSecret" -}}
{{- printf "%s-tls" (include "regcred.fullname" .) -}}
{{- end -}}

{{/* Namespaces the pod webhook is never called for. */}}
{{- define "regcred.excludedNamespaces" -}}
{{- $list := list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace -}}
{{- range .Values.injection.excludedNamespaces }}{{- $list = append $list . -}}{{- end -}}
{{- toJson (uniq $list) -}}
{{- end -}}

{{/* clientConfig for one webhook path: the Service, or webhook.url for an out-of-cluster regcred. */}}
{{- define "regcred.clientConfig" -}}
{{- $root := .root -}}
{{- if $root.Values.webhook.url }}
url: {{ printf "%s%s" (trimSuffix "/" $root.Values.webhook.url) .path | quote }}
{{- else }}
service:
  name: {{ include "regcred.fullname" $root }}
  namespace: {{ $root.Release.Namespace }}
  path: {{ .path | quote }}
  port: {{ $root.Values.service.port }}
{{- end }}
{{- if $root.Values.webhook.caBundle }}
caBundle: {{ $root.Values.webhook.caBundle | quote }}
{{- else if and (eq $root.Values.certificates.mode "self") .existingCaBundle }}
caBundle: {{ .existingCaBundle | quote }}
{{- end }}
{{- end -}}

{{/*
One webhook of files/webhooks.yaml, rendered for this release. Arguments: root, def, existing
(the live configuration, so an upgrade keeps the caBundle regcred put there).
*/}}
{{- define "regcred.webhook" -}}
{{- $root := .root -}}
{{- $def := .def -}}
{{- $short := first (splitList "." $def.name) -}}
{{- $existingCa := "" -}}
{{- if .existing }}{{- range .existing.webhooks }}{{- if eq .name $def.name }}{{- $existingCa = .clientConfig.caBundle | default "" -}}{{- end }}{{- end }}{{- end }}
- name: {{ $def.name }}
  admissionReviewVersions: ["v1"]
  clientConfig:
    {{- include "regcred.clientConfig" (dict "root" $root "path" $def.path "existingCaBundle" $existingCa) | nindent 4 }}
  rules:
    {{- toYaml $def.rules | nindent 4 }}
  sideEffects: {{ $def.sideEffects }}
  failurePolicy: {{ index $root.Values.webhook.failurePolicy $short | default $def.failurePolicy }}
  timeoutSeconds: {{ index $root.Values.webhook.timeoutSeconds $short | default $def.timeoutSeconds }}
  matchPolicy: {{ $def.matchPolicy }}
  {{- if $def.reinvocationPolicy }}
  reinvocationPolicy: {{ $def.reinvocationPolicy }}
  {{- end }}
  {{- with $def.namespaceSelector }}
  {{- $base := . -}}
  {{- if hasKey . $root.Values.injection.mode }}{{- $base = index . $root.Values.injection.mode -}}{{- end }}
  namespaceSelector:
    matchExpressions:
      {{- with $base.matchExpressions }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values: {{ include "regcred.excludedNamespaces" $root }}
  {{- end }}
  {{- with $def.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
