#!/bin/sh
# Runs once after the broker is healthy: the vhost, one user per service, each allowed only its own queues.
set -eu
api() { curl -fsS -u "$RABBITMQ_DEFAULT_USER:$RABBITMQ_DEFAULT_PASS" -H 'content-type: application/json' -X PUT \
          "http://rabbitmq:15672/api/$1" -d "$2"; }
api vhosts/refunds '{}'
for pair in intake:"$INTAKE_AMQP_PASSWORD" auto-review:"$AUTO_REVIEW_AMQP_PASSWORD" \
            supplier-verification:"$SUPPLIER_VERIFICATION_AMQP_PASSWORD" payout:"$PAYOUT_AMQP_PASSWORD" \
            notification:"$NOTIFICATION_AMQP_PASSWORD"; do
  user=${pair%%:*}; pw=${pair#*:}
  extra=""; [ "$user" = supplier-verification ] && extra='|supplier\\..*'
  re="^(refund\\\\.events|refund\\\\.dead-letter|$user|$user\\\\.dlq$extra)\$"
  api "users/$user" "{\"password\":\"$pw\",\"tags\":\"\"}"
  api "permissions/refunds/$user" "{\"configure\":\"$re\",\"write\":\"$re\",\"read\":\"$re\"}"
done
echo "rabbitmq provisioned"
