#!/bin/sh
# The broker's provisioning, the one used by every way the platform runs (docker-compose's `provision` container,
# scripts/stack for scripts/run and scripts/test), through the management HTTP API:
#   - the vhost `refunds`;
#   - one user per service, allowed only its own queues (and supplier-verification the suppliers' request queues)
#     and, on refund.events, only the routing keys it produces (topic-permissions.tsv, generated from the producers
#     table in Shared/RefundModel);
#   - the marketplace's user: publishes order facts and buyer profiles only, reads nothing;
#   - one user per supplier, `supplier.<id>`: reads only its request queue, publishes only replies.
#
#   rabbitmq.sh all                 everything above (idempotent: PUTs)
#   rabbitmq.sh supplier ID PASS    one supplier's user
#
# Settings: RABBITMQ_API (default http://rabbitmq:15672/api), RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS (an
# administrator), <SERVICE>_AMQP_PASSWORD for the five services, MARKETPLACE_AMQP_PASSWORD, SUPPLIER_CREDENTIALS
# (id=password,…), TOPIC_PERMISSIONS (default: topic-permissions.tsv beside this script), SERVICES_TSV (default:
# services.tsv beside it: the services, one AMQP user each).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
API=${RABBITMQ_API:-http://rabbitmq:15672/api}
TSV=${TOPIC_PERMISSIONS:-$here/topic-permissions.tsv}
SERVICES_TSV=${SERVICES_TSV:-$here/services.tsv}
VHOST=refunds

api() {
  curl -fsS -u "$RABBITMQ_DEFAULT_USER:$RABBITMQ_DEFAULT_PASS" -H 'content-type: application/json' -X PUT \
    "$API/$1" -d "$2" >/dev/null
}
# The write pattern of a user on refund.events, JSON-escaped (backslashes doubled).
topic_write() {
  pattern=$(awk -F '\t' -v u="$1" '$1 == u { print $2 }' "$TSV")
  [ -n "$pattern" ] || { echo "no topic permission for $1 in $TSV" >&2; exit 1; }
  printf '%s' "$pattern" | sed 's/\\/\\\\/g'
}
required() { eval "v=\${$1:-}"; [ -n "$v" ] || { echo "$1 is required" >&2; exit 2; }; printf '%s' "$v"; }

supplier() {
  id=$1 pw=$2
  case "$id" in *[!A-Za-z0-9-]*|"") echo "supplier ids are letters, digits and dashes: $id" >&2; exit 2 ;; esac
  # supplier.<id>: service users have no dot, so no supplier id can take a service's user.
  api "users/supplier.$id" "{\"password\":\"$pw\",\"tags\":\"\"}"
  api "permissions/$VHOST/supplier.$id" \
    "{\"configure\":\"^\$\",\"write\":\"^refund\\\\.events\$\",\"read\":\"^supplier\\\\.$id\$\"}"
  api "topic-permissions/$VHOST/supplier.$id" \
    "{\"exchange\":\"refund.events\",\"write\":\"$(topic_write 'supplier.*')\",\"read\":\"^\$\"}"
}

all() {
  api "vhosts/$VHOST" '{}'
  api "permissions/$VHOST/$RABBITMQ_DEFAULT_USER" '{"configure":".*","write":".*","read":".*"}'
  for user in $(grep -v '^#' "$SERVICES_TSV" | cut -f1); do
    var=$(echo "$user" | tr 'a-z-' 'A-Z_')_AMQP_PASSWORD
    pw=$(required "$var")
    extra=""; [ "$user" = supplier-verification ] && extra='|supplier\\..*'
    # Each service: the two exchanges, its own queue, DLQ and quarantine; nothing of another service.
    re="^(refund\\\\.events|refund\\\\.dead-letter|$user|$user\\\\.dlq|$user\\\\.quarantine$extra)\$"
    api "users/$user" "{\"password\":\"$pw\",\"tags\":\"\"}"
    api "permissions/$VHOST/$user" "{\"configure\":\"$re\",\"write\":\"$re\",\"read\":\"$re\"}"
    api "topic-permissions/$VHOST/$user" \
      "{\"exchange\":\"refund.events\",\"write\":\"$(topic_write "$user")\",\"read\":\".*\"}"
  done
  api "users/marketplace" "{\"password\":\"$(required MARKETPLACE_AMQP_PASSWORD)\",\"tags\":\"\"}"
  api "permissions/$VHOST/marketplace" '{"configure":"^$","write":"^refund\\.events$","read":"^$"}'
  api "topic-permissions/$VHOST/marketplace" \
    "{\"exchange\":\"refund.events\",\"write\":\"$(topic_write marketplace)\",\"read\":\"^\$\"}"
  for pair in $(echo "${SUPPLIER_CREDENTIALS:-}" | tr ',' ' '); do
    supplier "${pair%%=*}" "${pair#*=}"
  done
  echo "rabbitmq provisioned: vhost $VHOST, five services, the marketplace, $(echo "${SUPPLIER_CREDENTIALS:-}" | tr ',' '\n' | grep -c = || true) supplier(s)"
}

case "${1:-all}" in
  all) all ;;
  supplier) supplier "$2" "$3" ;;
  *) echo "usage: rabbitmq.sh all | supplier ID PASSWORD" >&2; exit 2 ;;
esac
