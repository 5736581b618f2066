{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "kafscale-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name: <release>-<chart>, or <release> when it already contains the chart name.
*/}}
{{- define "kafscale-mcp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "kafscale-mcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels (immutable once deployed: keep them minimal).
*/}}
{{- define "kafscale-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafscale-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Common labels.
*/}}
{{- define "kafscale-mcp.labels" -}}
helm.sh/chart: {{ include "kafscale-mcp.chart" . }}
{{ include "kafscale-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: mcp
app.kubernetes.io/part-of: kafscale
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
ServiceAccount name.
*/}}
{{- define "kafscale-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kafscale-mcp.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image reference: repository@digest, repository:latest (useLatest) or repository:<tag|appVersion>.
*/}}
{{- define "kafscale-mcp.image" -}}
{{- $repo := required "kafscale-mcp: image.repository is required" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else if .Values.image.useLatest -}}
{{- printf "%s:latest" $repo -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{- define "kafscale-mcp.imagePullPolicy" -}}
{{- if and .Values.image.useLatest (not .Values.image.digest) -}}
Always
{{- else -}}
{{- .Values.image.pullPolicy | default "IfNotPresent" -}}
{{- end -}}
{{- end -}}

{{/*
A list value, or an already comma-separated string, as one comma-separated string (empty entries dropped).
Usage: include "kafscale-mcp.csv" .Values.allowedOrigins
*/}}
{{- define "kafscale-mcp.csv" -}}
{{- if . -}}
{{- $values := . -}}
{{- if kindIs "string" . -}}
{{- $values = splitList "," . -}}
{{- end -}}
{{- $items := list -}}
{{- range $values -}}
{{- $item := toString . | trim -}}
{{- if $item -}}
{{- $items = append $items $item -}}
{{- end -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}
{{- end -}}

{{/*
KAFSCALE_MCP_ETCD_ENDPOINTS.
*/}}
{{- define "kafscale-mcp.etcdEndpoints" -}}
{{- include "kafscale-mcp.csv" .Values.etcdEndpoints -}}
{{- end -}}

{{/*
Host names (Host header, port ignored) /mcp accepts: the Service's DNS names, the Ingress hosts,
loopback names for kubectl port-forward, and allowedHosts.
*/}}
{{- define "kafscale-mcp.allowedHosts" -}}
{{- $fullname := include "kafscale-mcp.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := list $fullname (printf "%s.%s" $fullname $ns) (printf "%s.%s.svc" $fullname $ns) (printf "%s.%s.svc.%s" $fullname $ns (.Values.clusterDomain | default "cluster.local")) -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts -}}
{{- if .host -}}
{{- $hosts = append $hosts .host -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.allowLoopbackHosts -}}
{{- $hosts = concat $hosts (list "localhost" "127.0.0.1" "[::1]") -}}
{{- end -}}
{{- $extra := include "kafscale-mcp.csv" .Values.allowedHosts -}}
{{- if $extra -}}
{{- $hosts = concat $hosts (splitList "," $extra) -}}
{{- end -}}
{{- join "," (uniq $hosts) -}}
{{- end -}}

{{/*
KAFSCALE_MCP_STATELESS: "auto" means true exactly when more than one replica runs.
*/}}
{{- define "kafscale-mcp.stateless" -}}
{{- $v := toString .Values.stateless | lower | trim -}}
{{- if or (eq $v "auto") (eq $v "") (eq $v "<nil>") -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ else }}false{{ end -}}
{{- else if eq $v "true" -}}
true
{{- else if eq $v "false" -}}
false
{{- else -}}
{{- fail (printf "kafscale-mcp: stateless must be auto, true or false (got %q)" (toString .Values.stateless)) -}}
{{- end -}}
{{- end -}}

{{/*
Name of the chart-managed Secret (auth token and/or etcd password given inline).
*/}}
{{- define "kafscale-mcp.secretName" -}}
{{- include "kafscale-mcp.fullname" . -}}
{{- end -}}

{{/*
Whether the chart manages a Secret: "true" or "".
*/}}
{{- define "kafscale-mcp.managedSecret" -}}
{{- if or (and .Values.auth.token (not .Values.auth.existingSecret)) (and .Values.etcd.password (not .Values.etcd.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{/*
Path of the SQLite database.
*/}}
{{- define "kafscale-mcp.dbPath" -}}
{{- printf "%s/%s" (.Values.persistence.mountPath | trimSuffix "/") .Values.persistence.dbFile -}}
{{- end -}}

{{/*
Name of the PersistentVolumeClaim.
*/}}
{{- define "kafscale-mcp.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "kafscale-mcp.fullname" .)) -}}
{{- end -}}

{{/*
Checks that fail rendering with a message saying what to set. Included once, from the Deployment.
*/}}
{{- define "kafscale-mcp.validate" -}}
{{- if not (include "kafscale-mcp.etcdEndpoints" .) -}}
{{- fail "kafscale-mcp: etcdEndpoints is empty. Set the Kafscale cluster's etcd client URLs, e.g. --set 'etcdEndpoints={http://kafscale-etcd.kafscale.svc.cluster.local:2379}'" -}}
{{- end -}}
{{- if and (eq (toString .Values.env | lower | trim) "prod") (not .Values.auth.token) (not .Values.auth.existingSecret) (not .Values.oidc.issuer) -}}
{{- fail "kafscale-mcp: env is prod but /mcp would be unauthenticated. Set oidc.issuer (with oidc.audience), auth.existingSecret, or auth.token." -}}
{{- end -}}
{{- if and .Values.auth.token .Values.auth.existingSecret -}}
{{- fail "kafscale-mcp: set auth.token or auth.existingSecret, not both" -}}
{{- end -}}
{{- if and .Values.etcd.password .Values.etcd.existingSecret -}}
{{- fail "kafscale-mcp: set etcd.password or etcd.existingSecret, not both" -}}
{{- end -}}
{{- if and .Values.etcd.tls.enabled (not .Values.etcd.tls.existingSecret) -}}
{{- fail "kafscale-mcp: etcd.tls.enabled needs etcd.tls.existingSecret (a Secret with the CA bundle and optional client certificate and key)" -}}
{{- end -}}
{{- if and .Values.etcd.tls.enabled (ne (empty .Values.etcd.tls.certKey) (empty .Values.etcd.tls.keyKey)) -}}
{{- fail "kafscale-mcp: etcd.tls.certKey and etcd.tls.keyKey must be set together (or both empty)" -}}
{{- end -}}
{{- if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) -}}
{{- fail "kafscale-mcp: persistence.enabled needs replicaCount 1 (a ReadWriteOnce volume, and a SQLite file must have one writer). Use the default emptyDir with several replicas." -}}
{{- end -}}
{{- if not .Values.persistence.dbFile -}}
{{- fail "kafscale-mcp: persistence.dbFile must not be empty" -}}
{{- end -}}
{{- $_ := include "kafscale-mcp.stateless" . -}}
{{- end -}}
