#!/usr/bin/env python3
"""Reads a JSON list of raw e-mails (as the notify sandbox received them) on stdin and parses each with Python's
`email` package under the default (RFC 5322/6532) policy. Prints one JSON object per message: its defects, the
decoded subject and text, and the Message-ID. Exit 0; the component test judges the output."""
import email
import email.policy
import json
import sys

out = []
for raw in json.load(sys.stdin):
    message = email.message_from_bytes(raw.encode("utf-8"), policy=email.policy.default)
    defects = [type(d).__name__ for d in message.defects]
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    if body is not None:
        defects += [type(d).__name__ for d in body.defects]
    out.append({"defects": defects, "subject": str(message["subject"]), "text": text,
                "messageId": str(message["message-id"]), "contentType": message.get_content_type()})
print(json.dumps(out, ensure_ascii=False))
