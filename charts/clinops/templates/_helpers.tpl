{{/* Chart name, overridable. */}}
{{- define "clinops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: the release name, with the chart name unless the release already has it. */}}
{{- define "clinops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "clinops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "clinops.labels" -}}
helm.sh/chart: {{ include "clinops.chart" . }}
{{ include "clinops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clinops
{{- end }}

{{/* Labels that select the operator pods (immutable for the life of the release). */}}
{{- define "clinops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clinops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "clinops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clinops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image: a digest pins it; else the tag, defaulting to the appVersion. */}}
{{- define "clinops.operatorImage" -}}
{{- $img := .Values.operator.image }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/* Labels of the inference pods the operator creates for ClinicalModels. */}}
{{- define "clinops.modelPodLabels" -}}
app.kubernetes.io/name: clinops-model
app.kubernetes.io/managed-by: clinops-operator
{{- end }}
