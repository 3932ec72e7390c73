#!/usr/bin/env python3
"""A supplier's verification client, written from Services/supplier-verification/PROTOCOL.md alone.

Python 3 with pika (Debian: python3-pika) and, optionally, jsonschema (python3-jsonschema) to check every message
against the protocol's schemas. It reads the supplier's request queue, decides each request with `decide()` (a real
supplier looks the item up in its own system), publishes the reply with publisher confirms and only then
acknowledges the request, and handles `supplier.reply-refused`: the platform tells us a reply was not taken, and a
corrected reply before `answerBy` still counts.

    SUPPLIER_AMQP_URL='amqp://supplier.acme:PASSWORD@broker:5672/refunds' \
        python3 supplier_client.py --supplier acme --answers answers.json

`answers.json` maps an order id to an answer (`confirmed`, `used`, `partial:<basis points>`, `unknown-order`);
`fix:<answer>` first sends a faulty reply (the answer without its required fields) and the corrected one when the
platform refuses it, which is how the repository's test shows the refusal path. An order not in the map is left
unanswered (the platform then decides at `answerBy` as for silence). Every event is printed as one JSON line.
"""
import argparse
import datetime
import json
import os
import signal
import sys
import uuid

import pika

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Services", "supplier-verification",
                       "schemas")
REQUEST, REPLY, REFUSED = "supplier.verification-request", "supplier.verification-reply", "supplier.reply-refused"


def emit(event, **fields):
    print(json.dumps(dict(event=event, **fields), sort_keys=True), flush=True)


class Schemas:
    """The protocol's JSON Schemas, by message type; every message in and out is checked when jsonschema is there."""

    def __init__(self, directory):
        try:
            import jsonschema
        except ImportError:
            self.validators = None
            return
        loaded = {}
        for name in os.listdir(directory):
            if name.endswith(".schema.json"):
                with open(os.path.join(directory, name)) as f:
                    loaded[name] = json.load(f)
        store = {s["$id"]: s for s in loaded.values()}
        by_type = {REQUEST: "verification-request.schema.json", REPLY: "verification-reply.schema.json",
                   REFUSED: "reply-refused.schema.json"}
        self.validators = {}
        for kind, name in by_type.items():
            schema = loaded[name]
            try:  # jsonschema >= 4.18 resolves $ref through a registry
                from referencing import Registry, Resource
                registry = Registry().with_resources([(i, Resource.from_contents(s)) for i, s in store.items()])
                self.validators[kind] = jsonschema.Draft202012Validator(schema, registry=registry)
            except ImportError:  # older (Debian 12 has 4.10): a resolver with the schemas in its store
                resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
                self.validators[kind] = jsonschema.Draft202012Validator(schema, resolver=resolver)

    def problems(self, message):
        """Schema violations of a message (empty when valid or when jsonschema is not installed)."""
        if self.validators is None:
            return []
        validator = self.validators.get(message.get("type"))
        if validator is None:
            return ["unknown message type %r" % message.get("type")]
        return [e.message for e in validator.iter_errors(message)]


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def decide(request, answers):
    """Your business logic: was this item used? Here: the answer the answers file gives for the order."""
    return answers.get(request["payload"]["orderId"])


def reply_payload(request_id, spec, faulty=False):
    """The reply's payload for an answer spec; `faulty` leaves out what the answer requires (for the test)."""
    answer, _, arg = spec.partition(":")
    payload = {"requestId": request_id, "answer": answer}
    if answer == "partial" and not faulty:
        payload["usedBp"] = int(arg)
    if answer == "used":
        payload["usedAt"] = now()
        payload["log"] = "activated from the client at " + payload["usedAt"]
    return payload


class Client:
    def __init__(self, url, supplier, answers, schemas):
        self.supplier, self.answers, self.schemas = supplier, answers, schemas
        self.user = "supplier." + supplier
        self.queue = "supplier." + supplier
        # A refused reply we can correct: request id -> corrected answer spec.
        self.corrections = {}
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.queue_declare(self.queue, passive=True)  # the platform declares it; we only check it exists
        self.channel.confirm_delivery()  # basic_publish raises unless the broker confirms
        self.channel.basic_qos(prefetch_count=20)

    def publish_reply(self, request_id, correlation_id, payload):
        envelope = {"id": str(uuid.uuid4()), "type": REPLY, "schemaVersion": 1, "occurredAt": now(), "payload": payload}
        if correlation_id:  # optional: the refund id, when we know it
            envelope["correlationId"] = correlation_id
        body = json.dumps(envelope).encode()
        assert len(body) <= 16 * 1024
        self.channel.basic_publish(
            exchange="refund.events", routing_key="supplier.reply", body=body,
            properties=pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                            message_id=envelope["id"], user_id=self.user, type=REPLY))
        emit("replied", requestId=request_id, answer=payload["answer"], messageId=envelope["id"],
             problems=self.schemas.problems(envelope))
        return envelope["id"]

    def on_message(self, channel, method, properties, body):
        try:
            message = json.loads(body)
        except ValueError:
            emit("unreadable", routingKey=method.routing_key)
            channel.basic_nack(method.delivery_tag, requeue=False)
            return
        problems = self.schemas.problems(message)
        kind = message.get("type")  # read the type before the payload: two kinds of message arrive here
        if kind == REQUEST:
            payload = message["payload"]
            emit("request", requestId=payload["requestId"], refundId=payload["refundId"], orderId=payload["orderId"],
                 id=message["id"], messageId=properties.message_id, routingKey=method.routing_key, problems=problems)
            spec = decide(message, self.answers)
            if spec is not None:
                faulty = spec.startswith("fix:")
                if faulty:
                    spec = spec[len("fix:"):]
                    self.corrections[payload["requestId"].lower()] = (spec, message.get("correlationId"))
                self.publish_reply(payload["requestId"], message.get("correlationId"),
                                   reply_payload(payload["requestId"], spec, faulty=faulty))
        elif kind == REFUSED:
            payload = message["payload"]
            request_id = (payload.get("requestId") or "").lower()
            emit("refused", requestId=request_id, reason=payload["reason"], answerBy=payload.get("answerBy"),
                 routingKey=method.routing_key, problems=problems)
            correction = self.corrections.pop(request_id, None)
            # Only while the request is open: without answerBy a correction would change nothing.
            if correction is not None and payload.get("answerBy"):
                spec, refund_id = correction
                self.publish_reply(request_id, refund_id, reply_payload(request_id, spec))
        else:
            emit("unexpected", type=kind, problems=problems)
        # Acknowledged only now: the reply above was confirmed by the broker (or raised and we never get here).
        channel.basic_ack(method.delivery_tag)

    def run(self):
        self.channel.basic_consume(self.queue, self.on_message, auto_ack=False)
        emit("consuming", queue=self.queue, user=self.user)
        try:
            self.channel.start_consuming()
        finally:
            if self.connection.is_open:
                self.connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supplier", required=True, help="your supplier id (AMQP user supplier.<id>)")
    parser.add_argument("--answers", help="JSON file: order id -> answer")
    parser.add_argument("--url", default=os.environ.get("SUPPLIER_AMQP_URL"), help="amqp(s)://user:pass@host:port/vhost")
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or SUPPLIER_AMQP_URL")
    answers = {}
    if args.answers:
        with open(args.answers) as f:
            answers = json.load(f)
    # A supervisor stops us with SIGTERM: leave cleanly (unacked requests come back to the next consumer). The
    # signal is unblocked first, as a parent may have started us with it blocked.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Client(args.url, args.supplier, answers, Schemas(SCHEMAS)).run()


if __name__ == "__main__":
    sys.exit(main())
