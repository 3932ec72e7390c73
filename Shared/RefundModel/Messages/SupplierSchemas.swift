// Generated from Services/supplier-verification/schemas by SupplierSchemaTests (REGENERATE=1 swift test
// --filter SupplierSchemaTests): edit the JSON files, then regenerate. Do not edit here.

/// The supplier protocol's JSON Schemas, by file name, compiled in so the service checks replies against them.
public enum SupplierSchemas {
    public static let texts: [String: String] = [
        "envelope.schema.json": #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://refunds.example/supplier-protocol/v1/envelope.schema.json",
  "title": "Every message of the supplier verification protocol, version 1: the envelope",
  "description": "Unknown fields are allowed and must be ignored by the reader (optional ones may be added within version 1).",
  "type": "object",
  "required": ["id", "type", "schemaVersion", "occurredAt", "payload"],
  "properties": {
    "id": {"$ref": "#/$defs/uuid", "description": "New for every message; an id seen before is a duplicate and ignored."},
    "type": {"enum": ["supplier.verification-request", "supplier.verification-reply", "supplier.reply-refused"]},
    "schemaVersion": {"const": 1},
    "correlationId": {"type": "string", "maxLength": 200, "description": "The refund id (optional: requests are found by requestId)."},
    "occurredAt": {"$ref": "#/$defs/time"},
    "payload": {"type": "object"}
  },
  "$defs": {
    "uuid": {
      "type": "string",
      "pattern": "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
      "description": "A UUID in either case; compare without regard to case."
    },
    "time": {
      "type": "string",
      "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$",
      "description": "ISO 8601 in UTC, with or without fractional seconds."
    }
  }
}
"""#,
        "reply-refused.schema.json": #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://refunds.example/supplier-protocol/v1/reply-refused.schema.json",
  "title": "supplier.reply-refused (platform to supplier): one of your replies was not taken",
  "allOf": [{"$ref": "envelope.schema.json"}],
  "properties": {
    "type": {"const": "supplier.reply-refused"},
    "payload": {
      "type": "object",
      "required": ["reason", "at"],
      "properties": {
        "replyMessageId": {"type": "string", "description": "the AMQP message_id of the refused reply"},
        "requestId": {"$ref": "envelope.schema.json#/$defs/uuid", "description": "the request your reply named, when it could be read that far"},
        "reason": {"type": "string", "minLength": 1, "description": "why (personal data masked)"},
        "answerBy": {"$ref": "envelope.schema.json#/$defs/time", "description": "present while the request is open: a corrected reply before it counts"},
        "at": {"$ref": "envelope.schema.json#/$defs/time"}
      }
    }
  }
}
"""#,
        "verification-reply.schema.json": #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://refunds.example/supplier-protocol/v1/verification-reply.schema.json",
  "title": "supplier.verification-reply (supplier to platform)",
  "description": "Published to exchange refund.events with routing key supplier.reply, persistent, user_id set to your AMQP user, message_id set to the envelope id, body at most 16384 bytes.",
  "allOf": [{"$ref": "envelope.schema.json"}],
  "properties": {
    "type": {"const": "supplier.verification-reply"},
    "payload": {
      "type": "object",
      "required": ["requestId", "answer"],
      "properties": {
        "requestId": {"$ref": "envelope.schema.json#/$defs/uuid"},
        "answer": {"enum": ["confirmed", "used", "partial", "unknown-order"]},
        "usedAt": {"$ref": "envelope.schema.json#/$defs/time", "description": "used only: when it was activated"},
        "log": {"type": "string", "description": "used only: your activation record"},
        "usedBp": {"type": "integer", "minimum": 1, "maximum": 9999, "description": "partial only: the part used, in basis points of 10,000"}
      },
      "if": {"properties": {"answer": {"const": "partial"}}},
      "then": {"required": ["usedBp"]}
    }
  }
}
"""#,
        "verification-request.schema.json": #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://refunds.example/supplier-protocol/v1/verification-request.schema.json",
  "title": "supplier.verification-request (platform to supplier)",
  "allOf": [{"$ref": "envelope.schema.json"}],
  "properties": {
    "type": {"const": "supplier.verification-request"},
    "payload": {
      "type": "object",
      "required": ["requestId", "refundId", "orderId", "lineId", "productKind", "itemReference", "reason", "answerBy"],
      "properties": {
        "requestId": {"$ref": "envelope.schema.json#/$defs/uuid"},
        "refundId": {"$ref": "envelope.schema.json#/$defs/uuid"},
        "orderId": {"type": "string", "minLength": 1},
        "lineId": {"type": "string", "minLength": 1},
        "productKind": {"enum": ["card_code", "top_up", "membership", "licence", "service", "physical"]},
        "itemReference": {"type": "string", "minLength": 1, "description": "Your item in your own system; the order line when there is none."},
        "reason": {"enum": ["not_delivered", "invalid_code", "not_as_described", "platform_fault", "no_reason", "partly_used", "service_incomplete"]},
        "answerBy": {"$ref": "envelope.schema.json#/$defs/time"}
      }
    }
  }
}
"""#,
    ]
}
