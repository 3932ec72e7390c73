#!/bin/sh
# The official image's RABBITMQ_DEFAULT_USER/PASS, then the server in the foreground (it gets SIGTERM directly).
set -eu
mkdir -p /etc/rabbitmq "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users = none
listeners.tcp.default = 5672
management.tcp.port = 15672
log.console = true
log.file = false
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
default_user_tags.administrator = true
CONF
exec /usr/lib/rabbitmq/bin/rabbitmq-server
