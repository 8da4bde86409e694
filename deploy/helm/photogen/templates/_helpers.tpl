{{/*
Helpers shared by photogen's templates: names, labels, the environment every process
gets (secrets by secretKeyRef only), the security contexts and the volumes.
*/}}

{{- define "photogen.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "photogen.fullname" -}}
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

{{- define "photogen.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "photogen.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "photogen.selectorLabels" -}}
app.kubernetes.io/name: {{ include "photogen.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of one component (api, worker, migrate): call with (list $ "api"). */}}
{{- define "photogen.componentLabels" -}}
{{ include "photogen.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "photogen.componentSelector" -}}
{{ include "photogen.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "photogen.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "photogen.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "photogen.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
One variable from the Secret: call with (list $ "VARIABLE" $.Values.secrets.entry optional).
*/}}
{{- define "photogen.secretEnv" -}}
{{- $root := index . 0 }}
{{- $ref := index . 2 }}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secret | default $root.Values.secrets.name | required "secrets.name is required: the Secret photogen's secrets are read from" }}
      key: {{ $ref.key | required (printf "secrets: the key of %s is required" (index . 1)) }}
      {{- if index . 3 }}
      optional: true
      {{- end }}
{{- end }}

{{/* The variables whose values are secrets: never accepted as literal values. */}}
{{- define "photogen.secretNames" -}}
DATABASE_URL STRIPE_WEBHOOK_SECRET REPLICATE_API_TOKEN REPLICATE_WEBHOOK_SECRET PHOTO_NAME_SECRET OPERATOR_TOKEN AUTH_JWT_SECRET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
{{- end }}

{{/* Literal variables from a values map: call with (list $ map); refuses secrets. */}}
{{- define "photogen.literalEnv" -}}
{{- $secrets := splitList " " (include "photogen.secretNames" (index . 0)) }}
{{- range $name, $value := index . 1 }}
{{- if has $name $secrets }}
{{- fail (printf "%s is a secret: put it in the Secret named by secrets (values.yaml), not in env" $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* What every process needs: the database and its log level. */}}
{{- define "photogen.baseEnv" -}}
{{ include "photogen.secretEnv" (list . "DATABASE_URL" .Values.secrets.databaseURL false) }}
{{ include "photogen.literalEnv" (list . .Values.env) }}
{{- end }}

{{/* The photo store, for the api and the workers. */}}
{{- define "photogen.photosEnv" -}}
{{ include "photogen.secretEnv" (list . "PHOTO_NAME_SECRET" .Values.secrets.photoNameSecret false) }}
- name: PHOTO_BASE_URL
  value: {{ .Values.photos.baseURL | required "photos.baseURL is required: the public URL prefix of the photos" | quote }}
{{- if eq .Values.photos.store "s3" }}
- name: S3_BUCKET
  value: {{ .Values.photos.s3.bucket | required "photos.s3.bucket is required with photos.store=s3" | quote }}
{{- with .Values.photos.s3.region }}
- name: S3_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.photos.s3.endpoint }}
- name: S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- if .Values.photos.s3.pathStyle }}
- name: S3_PATH_STYLE
  value: "true"
{{- end }}
{{ include "photogen.secretEnv" (list . "AWS_ACCESS_KEY_ID" .Values.secrets.awsAccessKeyID true) }}
{{ include "photogen.secretEnv" (list . "AWS_SECRET_ACCESS_KEY" .Values.secrets.awsSecretAccessKey true) }}
{{- else if eq .Values.photos.store "local" }}
- name: STORAGE_DIR
  value: /data/photos
{{- else }}
{{- fail (printf "photos.store %q: want s3 or local" .Values.photos.store) }}
{{- end }}
{{- end }}

{{/* The pod's security context: never root, the image's user 65532. */}}
{{- define "photogen.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Each container's: read-only root, no privilege, no capability. */}}
{{- define "photogen.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
{{- end }}

{{/*
The writable paths under a read-only root: /tmp (an emptyDir: Go's os.TempDir) and, with
the local store, /data/photos (the ReadWriteMany claim). Call with (list $ photos?).
*/}}
{{- define "photogen.volumes" -}}
{{- $root := index . 0 }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and (index . 1) (eq $root.Values.photos.store "local") }}
- name: photos
  persistentVolumeClaim:
    claimName: {{ $root.Values.photos.local.existingClaim | required "photos.local.existingClaim is required with photos.store=local: a ReadWriteMany PersistentVolumeClaim" }}
{{- end }}
{{- end }}

{{- define "photogen.volumeMounts" -}}
{{- $root := index . 0 }}
- name: tmp
  mountPath: /tmp
{{- if and (index . 1) (eq $root.Values.photos.store "local") }}
- name: photos
  mountPath: /data/photos
{{- end }}
{{- end }}
