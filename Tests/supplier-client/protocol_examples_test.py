#!/usr/bin/env python3
"""Every JSON example in PROTOCOL.md validates against the protocol's schema for its type, and the schemas refuse
what the document says is refused. Run by the component test `SupplierTests.protocolExamples`; exit 0 when all hold.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "Tools", "supplier-client"))
from supplier_client import SCHEMAS, Schemas  # noqa: E402  the client's own loader: one way to read the schemas

schemas = Schemas(SCHEMAS)
if schemas.validators is None:
    sys.exit("jsonschema is not installed (Debian: python3-jsonschema)")
with open(os.path.join(ROOT, "Services", "supplier-verification", "PROTOCOL.md")) as f:
    document = f.read()
failures = []
examples = re.findall(r"```json\n(.*?)```", document, re.S)
if len(examples) < 5:
    failures.append("expected at least five JSON examples, found %d" % len(examples))
for text in examples:
    try:
        message = json.loads(text)
    except ValueError as e:
        failures.append("example does not parse (%s): %s" % (e, text[:80]))
        continue
    for problem in schemas.problems(message):
        failures.append("%s example: %s" % (message.get("type"), problem))

# What the document says is refused, the schema refuses too.
def reply(request_id="8017b5e7-1bbb-4bb2-89d0-ad3f5cb728f8", **payload):
    return {"id": "0b9f4c7e-5d1a-4c36-9a77-2f0e8d6c1b23", "type": "supplier.verification-reply", "schemaVersion": 1,
            "occurredAt": "2026-11-22T03:05:00Z", "payload": dict(requestId=request_id, **payload)}
refused = {
    "partial without usedBp": reply(answer="partial"),
    "usedBp as a string": reply(answer="partial", usedBp="4000"),
    "usedBp out of range": reply(answer="partial", usedBp=10000),
    "an answer not in the list": reply(answer="maybe"),
    "a request id that is not a UUID": dict(reply(answer="confirmed"), payload={"requestId": "42", "answer": "confirmed"}),
    "no schemaVersion": {k: v for k, v in reply(answer="confirmed").items() if k != "schemaVersion"},
    "a local time": dict(reply(answer="confirmed"), occurredAt="2026-11-22T11:05:00+08:00"),
}
for what, message in refused.items():
    if not schemas.problems(message):
        failures.append("the schema accepts %s" % what)
accepted = {
    "confirmed": reply(answer="confirmed"),
    "upper-case ids": reply("8017B5E7-1BBB-4BB2-89D0-AD3F5CB728F8", answer="unknown-order"),
    "unknown fields": dict(reply(answer="confirmed"), extra={"x": 1}),
}
for what, message in accepted.items():
    for problem in schemas.problems(message):
        failures.append("the schema refuses %s: %s" % (what, problem))

for f in failures:
    print("FAIL", f)
print("%d examples checked, %d refusals, %d failures" % (len(examples), len(refused), len(failures)))
sys.exit(1 if failures else 0)
