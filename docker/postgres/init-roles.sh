#!/bin/sh
# Runs once, when the postgres container initialises an empty data volume (docker-entrypoint-initdb.d).
# One login role per service that keeps data (and the gateway: its Idempotency-Keys), owning its schema `sealbox_<svc>` in the one database
# (the schema name the services use): a service can neither read nor change another's tables.
# Passwords come from <SVC>_DB_PASSWORD (docker/.env); the services' SEALBOX_DATABASE_URL use them.
set -eu
for svc in iam kms secrets lifecycle gateway; do
  variable="$(echo "$svc" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="$(printenv "$variable" || true)"
  if [ -z "$password" ]; then
    echo "init-roles: $variable is not set" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v role="sealbox_$svc" -v password="$password" -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE SCHEMA :"role" AUTHORIZATION :"role";
-- The services run `CREATE SCHEMA IF NOT EXISTS` at start, which PostgreSQL checks against this.
GRANT CREATE ON DATABASE :"database" TO :"role";
SQL
done
