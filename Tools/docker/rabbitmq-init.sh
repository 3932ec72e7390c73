#!/bin/sh
# Runs once after the broker is healthy: the vhost, one user per service, each allowed only its own queues and, on
# refund.events, only the routing keys it produces (/topic-permissions.tsv, generated from the producers table);
# the marketplace's user, which publishes order facts and buyer profiles only.
set -eu
api() { curl -fsS -u "$RABBITMQ_DEFAULT_USER:$RABBITMQ_DEFAULT_PASS" -H 'content-type: application/json' -X PUT \
          "http://rabbitmq:15672/api/$1" -d "$2"; }
# The write pattern of a user, JSON-escaped (backslashes doubled).
topic_write() { awk -F '\t' -v u="$1" '$1 == u { print $2 }' /topic-permissions.tsv | sed 's/\\/\\\\/g'; }
api vhosts/refunds '{}'
for pair in intake:"$INTAKE_AMQP_PASSWORD" auto-review:"$AUTO_REVIEW_AMQP_PASSWORD" \
            supplier-verification:"$SUPPLIER_VERIFICATION_AMQP_PASSWORD" payout:"$PAYOUT_AMQP_PASSWORD" \
            notification:"$NOTIFICATION_AMQP_PASSWORD"; do
  user=${pair%%:*}; pw=${pair#*:}
  extra=""; [ "$user" = supplier-verification ] && extra='|supplier\\..*'
  re="^(refund\\\\.events|refund\\\\.dead-letter|$user|$user\\\\.dlq|$user\\\\.quarantine$extra)\$"
  api "users/$user" "{\"password\":\"$pw\",\"tags\":\"\"}"
  api "permissions/refunds/$user" "{\"configure\":\"$re\",\"write\":\"$re\",\"read\":\"$re\"}"
  api "topic-permissions/refunds/$user" \
    "{\"exchange\":\"refund.events\",\"write\":\"$(topic_write "$user")\",\"read\":\".*\"}"
done
api "users/marketplace" "{\"password\":\"$MARKETPLACE_AMQP_PASSWORD\",\"tags\":\"\"}"
api "permissions/refunds/marketplace" '{"configure":"^$","write":"^refund\\.events$","read":"^$"}'
api "topic-permissions/refunds/marketplace" \
  "{\"exchange\":\"refund.events\",\"write\":\"$(topic_write marketplace)\",\"read\":\"^$\"}"
echo "rabbitmq provisioned"
