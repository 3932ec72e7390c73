# RabbitMQ 3.10 from Debian's package, standing in for rabbitmq:3.10-management (see README.md).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends rabbitmq-server && rm -rf /var/lib/apt/lists/* \
    && rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
# Server and CLI (health checks run as another process) must share the Erlang cookie: one HOME.
ENV HOME=/var/lib/rabbitmq RABBITMQ_MNESIA_BASE=/var/lib/rabbitmq/mnesia RABBITMQ_LOG_BASE=/var/log/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/rabbitmq-entrypoint.sh
EXPOSE 5672 15672
CMD ["sh", "/usr/local/bin/rabbitmq-entrypoint.sh"]
