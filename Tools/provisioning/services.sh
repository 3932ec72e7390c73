# The platform's services for the shell scripts, read from services.tsv (generated from `ServiceName`; a unit test
# keeps it equal), so that a new stage joins every deployment list by joining `ServiceName`. Sourced by
# scripts/stack, scripts/run and scripts/containers after setting SERVICES_TSV to the file's path.
#   SERVICES              the kebab names, in start order
#   schema_of NAME        its PostgreSQL schema and login role
#   env_of NAME           its settings' prefix (auto-review → AUTO_REVIEW: AUTO_REVIEW_AMQP_URL, …)
SERVICES=$(grep -v '^#' "${SERVICES_TSV:?set SERVICES_TSV}" | cut -f1 | tr '\n' ' ')
schema_of() { awk -F'\t' -v s="$1" '$1 == s { print $2 }' "$SERVICES_TSV"; }
env_of() { echo "$1" | tr 'a-z-' 'A-Z_'; }
