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
The namespace of every resource: namespace.name (default kafscale-mcp, a namespace of its own, as in
Kafscale's chart), or the release namespace (helm -n) when namespace.name is empty.
*/}}
{{- define "kafscale-mcp.namespace" -}}
{{- .Values.namespace.name | default .Release.Namespace -}}
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
{{- $ns := include "kafscale-mcp.namespace" . -}}
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
The documented mapping from values to the service's variables (charts/kafscale-mcp/README.md,
"Configuration variables"). Each variable here is rendered from the value at the given path when that
value is not empty: lists become comma-separated strings, whole numbers integers, booleans true/false.
Exposing a new KAFSCALE_MCP_* variable as a named value is one line here plus the value in values.yaml
and values.schema.json; without that, `config:` sets any KAFSCALE_MCP_* variable by name.
*/}}
{{- define "kafscale-mcp.envValues" -}}
KAFSCALE_ENV: env
KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD: auth.allowStaticTokenInProd
KAFSCALE_MCP_ALLOWED_ORIGINS: allowedOrigins
KAFSCALE_MCP_AUDIT_FILE: audit.file
KAFSCALE_MCP_AUDIT_RETENTION: audit.retention
KAFSCALE_MCP_AUDIT_STDOUT: audit.stdout
KAFSCALE_MCP_BROKER_METRICS_URL: metrics.brokerMetricsURL
KAFSCALE_MCP_BROKER_METRICS_URL_TEMPLATE: metrics.brokerMetricsURLTemplate
KAFSCALE_MCP_ENABLED_TOOLS: enabledTools
KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: etcd.dialTimeout
KAFSCALE_MCP_ETCD_ENDPOINTS: etcdEndpoints
KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace
KAFSCALE_MCP_ETCD_PAGE_SIZE: etcd.pageSize
KAFSCALE_MCP_LOG_LEVEL: logLevel
KAFSCALE_MCP_MAX_BODY_BYTES: maxBodyBytes
KAFSCALE_MCP_MAX_RESULT_BYTES: maxResultBytes
KAFSCALE_MCP_METRICS_RETENTION: metrics.retention
KAFSCALE_MCP_OIDC_ALGORITHMS: oidc.algorithms
KAFSCALE_MCP_OIDC_AUDIENCE: oidc.audience
KAFSCALE_MCP_OIDC_CLOCK_TOLERANCE: oidc.clockTolerance
KAFSCALE_MCP_OIDC_ISSUER: oidc.issuer
KAFSCALE_MCP_OIDC_JWKS_COOLDOWN: oidc.jwksCooldown
KAFSCALE_MCP_OIDC_JWKS_URL: oidc.jwksUrl
KAFSCALE_MCP_OIDC_OBSERVE_SCOPE: oidc.observeScope
KAFSCALE_MCP_OIDC_REQUIRED_SCOPES: oidc.requiredScopes
KAFSCALE_MCP_OPERATOR_METRICS_URL: metrics.operatorMetricsURL
KAFSCALE_MCP_RATE_BURST: rateLimit.burst
KAFSCALE_MCP_RATE_LIMIT: rateLimit.perMinute
KAFSCALE_MCP_RESOURCE_URL: resourceUrl
KAFSCALE_MCP_REST_MAX_RESULT_BYTES: restMaxResultBytes
KAFSCALE_MCP_SCRAPE_INTERVAL: metrics.scrapeInterval
KAFSCALE_MCP_SCRAPE_TIMEOUT: metrics.scrapeTimeout
KAFSCALE_MCP_SESSION_TIMEOUT: sessionTimeout
KAFSCALE_MCP_SHUTDOWN_GRACE: shutdownGrace
KAFSCALE_MCP_STALE_AFTER: staleAfter
{{- end -}}

{{/*
Variables the chart derives itself (secrets through secretKeyRef, mounted files, paths, host lists).
*/}}
{{- define "kafscale-mcp.envDerived" -}}
KAFSCALE_MCP_ALLOWED_HOSTS: "allowedHosts (plus the Service names, ingress hosts and loopback names)"
KAFSCALE_MCP_AUTH_TOKEN: "auth.token or auth.existingSecret"
KAFSCALE_MCP_DB_PATH: "persistence.mountPath and persistence.dbFile"
KAFSCALE_MCP_ETCD_CA_FILE: "etcd.tls.caKey"
KAFSCALE_MCP_ETCD_CERT_FILE: "etcd.tls.certKey"
KAFSCALE_MCP_ETCD_KEY_FILE: "etcd.tls.keyKey"
KAFSCALE_MCP_ETCD_PASSWORD: "etcd.password or etcd.existingSecret"
KAFSCALE_MCP_ETCD_USERNAME: "etcd.username or etcd.existingSecret"
KAFSCALE_MCP_HTTP_ADDR: "containerPort"
KAFSCALE_MCP_OPS_COPY: "opsCopy.enabled, opsCopy.mountPath and opsCopy.file"
KAFSCALE_MCP_OPS_COPY_AUDIT: "opsCopy.includeAudit"
KAFSCALE_MCP_OPS_COPY_INTERVAL: "opsCopy.interval"
KAFSCALE_MCP_OPS_COPY_MODE: "opsCopy.mode"
KAFSCALE_MCP_STATELESS: "stateless"
{{- end -}}

{{/*
One value as an environment variable's text ("" when unset): a list comma-separated, a whole number
without exponent (YAML numbers arrive as floats: 1048576 would print as 1.048576e+06), a boolean as
true/false, anything else as trimmed text.
*/}}
{{- define "kafscale-mcp.envString" -}}
{{- if kindIs "slice" . -}}
{{- include "kafscale-mcp.csv" . -}}
{{- else if kindIs "bool" . -}}
{{- ternary "true" "false" . -}}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) -}}
{{- if eq (float64 .) (float64 (int64 .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end -}}
{{- else if not (kindIs "invalid" .) -}}
{{- toString . | trim -}}
{{- end -}}
{{- end -}}

{{/*
The value at a dotted path of .Values, as envString renders it. Usage: include "kafscale-mcp.envValueAt" (list .Values "etcd.namespace")
*/}}
{{- define "kafscale-mcp.envValueAt" -}}
{{- $v := index . 0 -}}
{{- range splitList "." (index . 1) -}}
{{- if kindIs "map" $v -}}
{{- $v = index $v . -}}
{{- else -}}
{{- $v = "" -}}
{{- end -}}
{{- end -}}
{{- include "kafscale-mcp.envString" $v -}}
{{- end -}}

{{/*
The container's environment, as a YAML list: the derived variables, every mapped value that is set,
`config` (any other KAFSCALE_MCP_* variable by name) and `extraEnv`. A variable set twice fails the
render instead of letting the later entry silently win.
*/}}
{{- define "kafscale-mcp.env" -}}
{{- $secretName := include "kafscale-mcp.secretName" . -}}
{{- $env := list (dict "name" "KAFSCALE_MCP_HTTP_ADDR" "value" (printf ":%d" (int .Values.containerPort))) -}}
{{- with .Values.nodeOptions -}}
{{- $env = append $env (dict "name" "NODE_OPTIONS" "value" (toString .)) -}}
{{- end -}}
{{- if .Values.etcd.username -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_USERNAME" "value" (toString .Values.etcd.username)) -}}
{{- else if .Values.etcd.existingSecret -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_USERNAME" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.etcd.existingSecret "key" (.Values.etcd.usernameKey | default "username") "optional" true))) -}}
{{- end -}}
{{- if .Values.etcd.existingSecret -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.etcd.existingSecret "key" (.Values.etcd.passwordKey | default "password")))) -}}
{{- else if .Values.etcd.password -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $secretName "key" "etcd-password"))) -}}
{{- end -}}
{{- if .Values.etcd.tls.enabled -}}
{{- $tlsPath := .Values.etcd.tls.mountPath | trimSuffix "/" -}}
{{- with .Values.etcd.tls.caKey -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_CA_FILE" "value" (printf "%s/%s" $tlsPath .)) -}}
{{- end -}}
{{- with .Values.etcd.tls.certKey -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_CERT_FILE" "value" (printf "%s/%s" $tlsPath .)) -}}
{{- end -}}
{{- with .Values.etcd.tls.keyKey -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ETCD_KEY_FILE" "value" (printf "%s/%s" $tlsPath .)) -}}
{{- end -}}
{{- end -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_DB_PATH" "value" (include "kafscale-mcp.dbPath" .)) -}}
{{- if .Values.opsCopy.enabled -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_OPS_COPY" "value" (printf "%s/%s" (.Values.opsCopy.mountPath | trimSuffix "/") .Values.opsCopy.file)) -}}
{{- with .Values.opsCopy.interval -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_OPS_COPY_INTERVAL" "value" (include "kafscale-mcp.envString" .)) -}}
{{- end -}}
{{- with .Values.opsCopy.mode -}}
{{- if not (kindIs "string" .) -}}
{{- fail "kafscale-mcp: opsCopy.mode must be a quoted string such as \"0640\" (unquoted, YAML reads 0640 as the number 416)" -}}
{{- end -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_OPS_COPY_MODE" "value" .) -}}
{{- end -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_OPS_COPY_AUDIT" "value" (include "kafscale-mcp.envString" (.Values.opsCopy.includeAudit | default false))) -}}
{{- end -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_STATELESS" "value" (include "kafscale-mcp.stateless" .)) -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_ALLOWED_HOSTS" "value" (include "kafscale-mcp.allowedHosts" .)) -}}
{{- if .Values.auth.existingSecret -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_AUTH_TOKEN" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.auth.existingSecret "key" (.Values.auth.tokenKey | default "token")))) -}}
{{- else if .Values.auth.token -}}
{{- $env = append $env (dict "name" "KAFSCALE_MCP_AUTH_TOKEN" "valueFrom" (dict "secretKeyRef" (dict "name" $secretName "key" "auth-token"))) -}}
{{- end -}}
{{- $mapped := include "kafscale-mcp.envValues" . | fromYaml -}}
{{- range $name, $path := $mapped -}}
{{- $value := include "kafscale-mcp.envValueAt" (list $.Values $path) -}}
{{- if ne $value "" -}}
{{- $env = append $env (dict "name" $name "value" $value) -}}
{{- end -}}
{{- end -}}
{{- $owned := merge $mapped (include "kafscale-mcp.envDerived" . | fromYaml) -}}
{{- range $name, $raw := .Values.config -}}
{{- if not (regexMatch "^KAFSCALE_MCP_[A-Z0-9_]+$" $name) -}}
{{- fail (printf "kafscale-mcp: config.%s: config takes KAFSCALE_MCP_* variables only; put other variables in extraEnv" $name) -}}
{{- end -}}
{{- with get $owned $name -}}
{{- fail (printf "kafscale-mcp: config.%s: this variable is set from %s; set that value instead" $name .) -}}
{{- end -}}
{{- if regexMatch "(TOKEN|PASSWORD|SECRET)" $name -}}
{{- fail (printf "kafscale-mcp: config.%s looks like a secret, and config values are kept in the Helm release record. Put it in a Secret and add it with extraEnv (valueFrom.secretKeyRef)" $name) -}}
{{- end -}}
{{- $value := include "kafscale-mcp.envString" $raw -}}
{{- if ne $value "" -}}
{{- $env = append $env (dict "name" $name "value" $value) -}}
{{- end -}}
{{- end -}}
{{- $env = concat $env (.Values.extraEnv | default list) -}}
{{- $seen := dict -}}
{{- $twice := list -}}
{{- range $env -}}
{{- if hasKey $seen .name -}}
{{- $twice = append $twice .name -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- with $twice -}}
{{- fail (printf "kafscale-mcp: environment variable(s) set twice: %s. The chart sets these from its values; remove them from extraEnv (or set the value the chart reads)" (join ", " (uniq .))) -}}
{{- end -}}
{{- toYaml $env -}}
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
{{- fail "kafscale-mcp: env is prod but /mcp would be unauthenticated. Set oidc.issuer (with oidc.audience), or, as a break-glass choice, auth.existingSecret or auth.token together with auth.allowStaticTokenInProd=true." -}}
{{- end -}}
{{- if and (eq (toString .Values.env | lower | trim) "prod") (or .Values.auth.token .Values.auth.existingSecret) (not .Values.oidc.issuer) (not .Values.auth.allowStaticTokenInProd) -}}
{{- fail "kafscale-mcp: env is prod and the only authentication is a static token; the service refuses that at start (exit 2). Configure OIDC (oidc.issuer and oidc.audience), or, as a deliberate break-glass choice, set auth.allowStaticTokenInProd=true." -}}
{{- end -}}
{{- if and .Values.namespace.create (not .Values.namespace.name) -}}
{{- fail "kafscale-mcp: namespace.create needs namespace.name. To install into the release namespace (helm -n NS --create-namespace), set namespace.create=false and namespace.name=\"\"." -}}
{{- end -}}
{{- if and .Values.namespace.create (eq (toString .Values.namespace.name) .Release.Namespace) -}}
{{- fail (printf "kafscale-mcp: namespace.create would create %s, the release's own namespace, which Helm manages itself. Set namespace.create=false (helm install -n %s --create-namespace creates it), or install the release from another namespace." .Release.Namespace .Release.Namespace) -}}
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
