{{/* Labels every object carries; `component` is service, edge or agent. */}}
{{- define "rig.labels" -}}
app.kubernetes.io/name: rig-conductor
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{ include "rig.selector" . }}
{{- end -}}

{{- define "rig.selector" -}}
app.kubernetes.io/component: {{ .component }}
rig-conductor/process: {{ .name }}
{{- end -}}

{{- define "rig.fullname" -}}
{{ printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* 1m CPU and 1Mi memory requested, no CPU limit, a memory limit. */}}
{{- define "rig.resources" -}}
resources:
  requests:
    cpu: 1m
    memory: 1Mi
  limits:
    memory: {{ .limit }}
{{- end -}}

{{/* One variable from one key of an existing Secret. */}}
{{- define "rig.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* Settings every process gets, none of them secret. */}}
{{- define "rig.commonEnv" -}}
- name: RIG_ENVIRONMENT
  value: {{ .Values.environment | quote }}
- name: RIG_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: RIG_BIND_HOST
  value: "0.0.0.0"
{{- with .Values.keyPrefix }}
- name: RIG_KEY_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- with .Values.tokenPublicKey }}
- name: RIG_TOKEN_PUBLIC_KEY
  value: {{ . | quote }}
{{- end }}
{{- range $role, $login := .Values.githubLogins }}
{{- with $login }}
- name: RIG_GITHUB_{{ upper $role }}_LOGIN
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "rig.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
{{- end -}}

{{- define "rig.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}
