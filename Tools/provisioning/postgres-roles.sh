#!/bin/sh
# The one PostgreSQL provisioning, wherever the platform runs: one login role per service, owning one schema that
# is its search_path; nothing for anyone in `public`. Each service creates its own tables in its schema (its
# migrations), and cannot read another's.
#
# Idempotent (a role that exists gets its password set again), so it is safe on every start. Used by
#   - docker-compose.yml: the postgres container's first start (/docker-entrypoint-initdb.d, as superuser);
#   - scripts/stack: the local servers of scripts/run, the tests and the benchmark.
# Connection: libpq's PGHOST/PGPORT/PGUSER/PGDATABASE (defaulting to the official image's POSTGRES_USER and
# POSTGRES_DB). The roles: one per line of services.tsv (SERVICES_TSV: its path; the schema column), each with its
# password in <SCHEMA>_DB_PASSWORD: INTAKE_DB_PASSWORD, REVIEW_DB_PASSWORD, SUPPLIER_DB_PASSWORD, …
set -eu
export PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}" PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-refunds}}"
# Quiet on a second run ("schema already exists, skipping" is expected there).
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
for role in $(grep -v '^#' "${SERVICES_TSV:?set SERVICES_TSV to Tools/provisioning/services.tsv}" | cut -f2); do
  var=$(echo "$role" | tr 'a-z' 'A-Z')_DB_PASSWORD
  pw=$(eval "printf '%s' \"\${$var:?set $var}\"")
  psql -v ON_ERROR_STOP=1 -q -v role="$role" -v pw="$pw" -v db="$PGDATABASE" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'pw';
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
ALTER ROLE :"role" SET search_path = :"role";
GRANT CONNECT ON DATABASE :"db" TO :"role";
SQL
done
psql -v ON_ERROR_STOP=1 -q -c "REVOKE ALL ON SCHEMA public FROM PUBLIC"

# Planner statistics within seconds of a table filling (issue 16). The stages' tables start empty and fill at
# hundreds of rows a second; until autovacuum's first ANALYZE the planner takes them for a few pages and joins by
# scanning them whole: notification's 16-row UPDATE of deliveries took 85 ms after 3,000 refunds instead of 0.3 ms,
# and PostgreSQL's CPU per refund doubled from one burst to the next. autovacuum visits a database every
# autovacuum_naptime (a minute by default); every 5 s here, which also keeps the queue tables (outboxes, inboxes,
# deliveries, deadlines) vacuumed as fast as they churn. A server setting: a login that is not a superuser (a managed
# PostgreSQL) is told to have it set instead.
if [ "$(psql -At -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ]; then
  psql -v ON_ERROR_STOP=1 -q -c "ALTER SYSTEM SET autovacuum_naptime = '5s'" -c "SELECT pg_reload_conf()" >/dev/null
else
  echo "postgres-roles.sh: not a superuser, so autovacuum_naptime is left as it is: set it to 5s on the server" >&2
fi

# The audit record (DOMAIN.md §7): every step of every refund, append-only, in one place an auditor can query.
# Owned by this administrator, not by any service: intake may only INSERT (its timeline's trigger writes each step
# here); no service role may UPDATE, DELETE or TRUNCATE it, and a trigger refuses those to everyone, owner included.
# Each record carries the hash of the refund's previous record (a chain per refund): `refundctl audit verify`
# recomputes it. The hashed text is prev_hash, refund_id, extract(epoch from at), step, actor, rule, reason joined
# by U+001F (a missing rule or reason is empty); sha256, lower-case hex; the first record's prev_hash is ''.
psql -v ON_ERROR_STOP=1 -q <<'SQL'
CREATE SCHEMA IF NOT EXISTS audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
CREATE TABLE IF NOT EXISTS audit.refund_steps (
    seq bigserial PRIMARY KEY,
    refund_id uuid NOT NULL,
    at timestamptz NOT NULL,
    step text NOT NULL,
    actor text NOT NULL,
    rule text,
    reason text,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL);
CREATE INDEX IF NOT EXISTS refund_steps_refund ON audit.refund_steps (refund_id, seq);
-- STABLE, as its body is (concat_ws and convert_to are): a SQL function no stricter than its body is inlined into
-- the statement that calls it, instead of running as a statement of its own.
CREATE OR REPLACE FUNCTION audit.step_hash(prev text, refund uuid, at timestamptz, step text, actor text, rule text,
                                           reason text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(chr(31), prev, refund::text, extract(epoch FROM at)::text, step, actor,
                                              coalesce(rule, ''), coalesce(reason, '')), 'UTF8')), 'hex')
$$;
-- Chains each new record to the refund's latest (writers of one refund take turns on an advisory lock); runs as
-- the owner, so writers need no right to read the table. The latest hash is read by a statement of its own after
-- the lock's (in READ COMMITTED a statement sees what committed before it began), and with this record's hash in
-- the same statement (step_hash is inlined there): two statements per record, not three (issue 16).
CREATE OR REPLACE FUNCTION audit.chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = audit, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('audit:' || NEW.refund_id::text, 0));
    NEW.recorded_by := session_user;
    NEW.recorded_at := now();
    SELECT last.prev, audit.step_hash(last.prev, NEW.refund_id, NEW.at, NEW.step, NEW.actor, NEW.rule, NEW.reason)
    INTO NEW.prev_hash, NEW.hash
    FROM (SELECT coalesce((SELECT r.hash FROM audit.refund_steps r WHERE r.refund_id = NEW.refund_id
                           ORDER BY r.seq DESC LIMIT 1), '') AS prev) last;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS chained ON audit.refund_steps;
CREATE TRIGGER chained BEFORE INSERT ON audit.refund_steps FOR EACH ROW EXECUTE FUNCTION audit.chain();
DROP TRIGGER IF EXISTS append_only ON audit.refund_steps;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit.refund_steps FOR EACH ROW
    EXECUTE FUNCTION audit.refuse_change();
DROP TRIGGER IF EXISTS never_truncated ON audit.refund_steps;
CREATE TRIGGER never_truncated BEFORE TRUNCATE ON audit.refund_steps FOR EACH STATEMENT
    EXECUTE FUNCTION audit.refuse_change();
REVOKE ALL ON audit.refund_steps FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO intake;
GRANT INSERT ON audit.refund_steps TO intake;
GRANT USAGE ON SEQUENCE audit.refund_steps_seq_seq TO intake;
SQL
