{{/* Non-secret settings (CRM_* environment variables), shared by the ConfigMap and the
     migration hook's ConfigMap. */}}
{{- define "crm.configData" -}}
CRM_ENVIRONMENT: {{ .Values.environment | quote }}
CRM_LOG_LEVEL: {{ .Values.logLevel | quote }}
CRM_LOG_JSON: "true"
CRM_DATA_DIR: /tmp/crm
CRM_GATEWAY_HOST: 0.0.0.0
CRM_GATEWAY_PORT: {{ .Values.gateway.port | quote }}
CRM_WORKER__HEALTH_HOST: 0.0.0.0
CRM_WORKER__HEALTH_PORT: {{ .Values.worker.healthPort | quote }}
CRM_DB__POOL_SIZE: {{ .Values.postgresql.poolSize | quote }}
CRM_DB__MAX_OVERFLOW: {{ .Values.postgresql.maxOverflow | quote }}
CRM_DB__STATEMENT_TIMEOUT_MS: {{ .Values.postgresql.statementTimeoutMs | quote }}
CRM_WORKER__THREADS: {{ .Values.worker.threads | quote }}
CRM_WORKER__SHUTDOWN_GRACE_SECONDS: {{ .Values.worker.shutdownGraceSeconds | quote }}
CRM_WORKER__HEARTBEAT_TIMEOUT_MS: {{ .Values.worker.heartbeatTimeoutMs | quote }}
CRM_WORKER__SCHEDULER_TICK_SECONDS: {{ .Values.scheduler.tickSeconds | quote }}
CRM_TELEMETRY__EXPORTER: {{ .Values.telemetry.exporter | quote }}
CRM_TELEMETRY__OTLP_ENDPOINT: {{ .Values.telemetry.otlpEndpoint | quote }}
CRM_MAIL__HOST: {{ .Values.mail.host | quote }}
CRM_MAIL__PORT: {{ .Values.mail.port | quote }}
CRM_MAIL__SECURITY: {{ .Values.mail.security | quote }}
CRM_MAIL__FROM_ADDRESS: {{ .Values.mail.fromAddress | quote }}
CRM_MAIL__FROM_NAME: {{ .Values.mail.fromName | quote }}
CRM_MAIL__DEV_SINK: "false"
{{- with .Values.mail.username }}
CRM_MAIL__USERNAME: {{ . | quote }}
{{- end }}
{{- if .Values.objectStorage.enabled }}
CRM_BACKUPS__STORAGE: s3
CRM_BACKUPS__S3_BUCKET: {{ .Values.objectStorage.bucket | quote }}
CRM_BACKUPS__S3_PREFIX: {{ .Values.objectStorage.prefix | quote }}
CRM_BACKUPS__S3_REGION: {{ .Values.objectStorage.region | quote }}
{{- with .Values.objectStorage.endpoint }}
CRM_BACKUPS__S3_ENDPOINT_URL: {{ . | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.extraEnv }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Only the settings that are set: an empty CRM_SSO__COOKIE_SECRET would be a (weak) secret
     and an empty CRM_MAIL__USERNAME a login attempt, not "unset". */}}
{{- define "crm.secretData" -}}
{{- $keys := dict
  "CRM_DATABASE_URL" .Values.secrets.databaseUrl
  "CRM_REDIS_URL" .Values.secrets.redisUrl
  "CRM_SECURITY__MASTER_KEY" .Values.secrets.masterKey
  "CRM_SSO__COOKIE_SECRET" .Values.secrets.ssoCookieSecret
  "CRM_MAIL__PASSWORD" .Values.secrets.mailPassword
  "CRM_BACKUPS__S3_ACCESS_KEY_ID" .Values.secrets.s3AccessKeyId
  "CRM_BACKUPS__S3_SECRET_ACCESS_KEY" .Values.secrets.s3SecretAccessKey -}}
{{- range $k := keys $keys | sortAlpha }}
{{- with index $keys $k }}
{{ $k }}: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}
