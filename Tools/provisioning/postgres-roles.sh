#!/bin/sh
# The one PostgreSQL provisioning, wherever the platform runs: one login role per service, owning one schema that
# is its search_path; nothing for anyone in `public`. Each service creates its own tables in its schema (its
# migrations), and cannot read another's.
#
# Idempotent (a role that exists gets its password set again), so it is safe on every start. Used by
#   - docker-compose.yml: the postgres container's first start (/docker-entrypoint-initdb.d, as superuser);
#   - scripts/stack: the local servers of scripts/run, the tests and the benchmark.
# Connection: libpq's PGHOST/PGPORT/PGUSER/PGDATABASE (defaulting to the official image's POSTGRES_USER and
# POSTGRES_DB). Passwords: INTAKE_DB_PASSWORD, REVIEW_DB_PASSWORD, SUPPLIER_DB_PASSWORD, PAYOUT_DB_PASSWORD,
# NOTIFICATION_DB_PASSWORD.
set -eu
export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}" PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-refunds}}"
# Quiet on a second run ("schema already exists, skipping" is expected there).
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
for pair in intake:"$INTAKE_DB_PASSWORD" review:"$REVIEW_DB_PASSWORD" supplier:"$SUPPLIER_DB_PASSWORD" \
            payout:"$PAYOUT_DB_PASSWORD" notification:"$NOTIFICATION_DB_PASSWORD"; do
  role=${pair%%:*}; pw=${pair#*:}
  psql -v ON_ERROR_STOP=1 -q -v role="$role" -v pw="$pw" -v db="$PGDATABASE" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'pw';
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
ALTER ROLE :"role" SET search_path = :"role";
GRANT CONNECT ON DATABASE :"db" TO :"role";
SQL
done
psql -v ON_ERROR_STOP=1 -q -c "REVOKE ALL ON SCHEMA public FROM PUBLIC"
