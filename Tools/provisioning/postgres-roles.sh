#!/bin/sh
# Runs once, on the first start of the postgres container: one login role and one schema per service.
set -eu
for pair in intake:"$INTAKE_DB_PASSWORD" review:"$REVIEW_DB_PASSWORD" supplier:"$SUPPLIER_DB_PASSWORD" \
            payout:"$PAYOUT_DB_PASSWORD" notification:"$NOTIFICATION_DB_PASSWORD"; do
  role=${pair%%:*}; pw=${pair#*:}
  psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v role="$role" -v pw="$pw" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
CREATE SCHEMA :"role" AUTHORIZATION :"role";
ALTER ROLE :"role" SET search_path = :"role";
SQL
done
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "REVOKE ALL ON SCHEMA public FROM PUBLIC"
