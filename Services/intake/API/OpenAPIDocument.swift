import Foundation
import RefundModel

/// The API's contract (OpenAPI 3.1), served at `/openapi.json`; a component test checks real responses against it
/// and schemathesis (`Tests/contract`) fuzzes it in CI.
enum OpenAPIDocument {
    static let bytes: [UInt8] = completed(text)

    /// Answers any operation can meet whatever it does, added to every operation here, once: 401 (no credential or
    /// a bad one), 403 (the other role's operation), 413 (a body over `BODY_LIMIT_BYTES`), 405 (another method on the same path), 503 (the database is
    /// unreachable: try again); and for writes 400 (a body that does not parse) and 429 (over the per-caller or
    /// per-address write limit, with Retry-After), 404/409/422 (what it names is gone, too late, or not acceptable).
    /// Each operation's own answers are written in `text`.
    static let everyOperation = ["401", "403", "405", "413", "503"]

    /// A designated account's number pattern as a JSON string (the API checks with the same: `DesignatedAccount`).
    static func numberPattern(_ channel: PaymentChannel) -> String {
        let data = try? JSONEncoder().encode(DesignatedAccount.numberPatterns[channel] ?? "")
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
    static let everyWrite = ["400", "404", "409", "422", "429"]

    static func completed(_ text: String) -> [UInt8] {
        guard var doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              var paths = doc["paths"] as? [String: Any] else {
            preconditionFailure("OpenAPIDocument.text is not JSON")
        }
        let error: [String: Any] = ["$ref": "#/components/responses/Error"]
        for (path, item) in paths {
            guard var operations = item as? [String: Any] else { continue }
            for (method, op) in operations {
                guard var operation = op as? [String: Any], var responses = operation["responses"] as? [String: Any]
                else { continue }
                for status in everyOperation + (method == "post" ? everyWrite : []) where responses[status] == nil {
                    responses[status] = error
                }
                operation["responses"] = responses
                operations[method] = operation
            }
            paths[path] = operations
        }
        doc["paths"] = paths
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])
        else { preconditionFailure("OpenAPIDocument cannot be written") }
        return Array(data)
    }

    static let text = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Refund platform: intake", "version": "1.0.0",
               "description": "Buyers apply for refunds and follow them; reviewers decide the hard cases. Amounts are integer minor units (fen) with a currency. Every error is {error: {code, message}}."},
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Money": {"type": "object", "required": ["minorUnits", "currency"], "additionalProperties": false,
                    "properties": {"minorUnits": {"type": "integer", "minimum": 0}, "currency": {"type": "string"}}},
          "Amount": {"type": "object", "required": ["minorUnits", "currency"], "additionalProperties": false,
                     "description": "an amount asked for: whole fen, more than zero",
                     "properties": {"minorUnits": {"type": "integer", "minimum": 1, "maximum": 9007199254740991},
                                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}},
          "Evidence": {"type": "object", "required": ["kind"], "additionalProperties": false,
                       "anyOf": [{"required": ["reference"]}, {"required": ["text"]}],
                       "properties": {"kind": {"type": "string", "enum": ["order_number", "activation_failure_log", "unused_proof", "login_screenshot", "usage_record", "package_photo", "tracking_number", "order_page", "delivery_status", "payment_statement", "product_page", "difference_proof", "other"]},
                                      "reference": {"type": "string", "minLength": 1, "maxLength": 500},
                                      "text": {"type": "string", "minLength": 1, "maxLength": 2000}}},
          "Apply": {"type": "object", "required": ["orderId", "lineId", "reason"], "additionalProperties": false,
                    "properties": {"orderId": {"type": "string", "minLength": 1, "maxLength": 64},
                                   "lineId": {"type": "string", "minLength": 1, "maxLength": 64},
                                   "reason": {"type": "string", "enum": ["not_delivered", "invalid_code", "not_as_described", "platform_fault", "no_reason", "partly_used", "service_incomplete", "wrong_account", "account_banned"]},
                                   "requestedAmount": {"$ref": "#/components/schemas/Amount"},
                                   "evidence": {"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Evidence"}},
                                   "preferredRoute": {"type": "string", "enum": ["original", "balance"]},
                                   "giftReturned": {"type": "boolean"}}},
          "BuyerAction": {"type": "object", "additionalProperties": false,
                          "properties": {"evidence": {"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Evidence"}},
                                         "note": {"type": "string", "minLength": 1, "maxLength": 2000}}},
          "Message": {"type": "object", "required": ["id", "refundId", "step", "title", "body", "locale", "at"], "additionalProperties": false,
                      "properties": {"id": {"type": "string"}, "refundId": {"type": "string"}, "step": {"type": "string"}, "title": {"type": "string"},
                                     "body": {"type": "string"}, "locale": {"type": "string", "enum": ["zh", "en"]}, "at": {"type": "string", "format": "date-time"}}},
          "Messages": {"type": "object", "required": ["messages"], "additionalProperties": false,
                       "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}}},
          "Ticket": {"type": "object", "required": ["id", "refundId", "reason", "state", "openedAt"], "additionalProperties": false,
                     "properties": {"id": {"type": "string"}, "refundId": {"type": "string"}, "reason": {"type": "string"}, "note": {"type": "string"},
                                    "state": {"type": "string", "enum": ["open", "closed"]}, "openedAt": {"type": "string", "format": "date-time"},
                                    "closedAt": {"type": "string", "format": "date-time"}, "answer": {"type": "string"}}},
          "Tickets": {"type": "object", "required": ["tickets"], "additionalProperties": false,
                      "properties": {"tickets": {"type": "array", "items": {"type": "object", "required": ["ticket"], "additionalProperties": false,
                                     "properties": {"ticket": {"$ref": "#/components/schemas/Ticket"}, "refund": {"$ref": "#/components/schemas/Refund"}}}}}},
          "Decision": {"type": "object", "required": ["decision"], "additionalProperties": false,
                       "allOf": [{"if": {"properties": {"decision": {"const": "reject"}}}, "then": {"required": ["reason"]}},
                                 {"if": {"properties": {"decision": {"const": "ask_evidence"}}}, "then": {"required": ["missing"]}}],
                       "properties": {"decision": {"type": "string", "enum": ["approve", "reject", "ask_evidence"]},
                                      "approvedAmount": {"$ref": "#/components/schemas/Amount"},
                                      "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
                                      "missing": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["order_number", "activation_failure_log", "unused_proof", "login_screenshot", "usage_record", "package_photo", "tracking_number", "order_page", "delivery_status", "payment_statement", "product_page", "difference_proof", "other"]}}}},
          "Step": {"type": "object", "required": ["step", "at", "actor", "kind"],
                   "properties": {"step": {"type": "string"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
                                  "rule": {"type": "string"}, "explanation": {"type": "string", "description": "the reason in the reader's language (Accept-Language: zh or en)"},
                                  "explanationCode": {"type": "string"}, "explanationParams": {"type": "object", "additionalProperties": {"type": "string"}},
                                  "amount": {"$ref": "#/components/schemas/Money"},
                                  "missingEvidence": {"type": "array", "items": {"type": "string"}},
                                  "expectedNextBy": {"type": "string", "format": "date-time"},
                                  "kind": {"type": "string", "enum": ["status", "action"]}}},
          "Refund": {"type": "object", "required": ["id", "orderId", "lineId", "state", "reason", "preferredRoute", "appealed", "createdAt", "evidence", "timeline"],
                     "properties": {"id": {"type": "string"}, "orderId": {"type": "string"}, "lineId": {"type": "string"},
                                    "state": {"type": "string", "enum": ["submitted", "needs_evidence", "manual_review", "rejected", "appealed", "rejected_final", "approved", "supplier_verification", "disputed", "processing", "payout_failed", "credited", "withdrawn"]},
                                    "reason": {"type": "string"}, "requestedAmount": {"$ref": "#/components/schemas/Money"},
                                    "amount": {"$ref": "#/components/schemas/Money"}, "preferredRoute": {"type": "string"},
                                    "appealed": {"type": "boolean"}, "createdAt": {"type": "string", "format": "date-time"},
                                    "expectedNextBy": {"type": "string", "format": "date-time"},
                                    "overdueSince": {"type": "string", "format": "date-time"},
                                    "missingEvidence": {"type": "array", "items": {"type": "string"}},
                                    "rejectionReason": {"type": "string"},
                                    "incidents": {"type": "array", "items": {"type": "string", "enum": ["possible_double_payment"]}},
                                    "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/StoredEvidence"}},
                                    "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}},
          "RateWindow": {"type": "object", "required": ["orders", "refunds", "rateBp"],
                         "properties": {"orders": {"type": "integer", "minimum": 0}, "refunds": {"type": "integer", "minimum": 0},
                                        "rateBp": {"type": "integer", "minimum": 0, "description": "refunds per 10,000 orders"}}},
          "RefundRates": {"type": "object", "required": ["dimension", "asOf", "method", "rates"],
                          "properties": {"dimension": {"type": "string"}, "asOf": {"type": "string", "format": "date"},
                                         "method": {"type": "string"},
                                         "rates": {"type": "array", "items": {"type": "object", "required": ["key", "day", "week", "days30"],
                                                   "properties": {"key": {"type": "string"},
                                                                  "day": {"$ref": "#/components/schemas/RateWindow"},
                                                                  "week": {"$ref": "#/components/schemas/RateWindow"},
                                                                  "days30": {"$ref": "#/components/schemas/RateWindow"},
                                                                  "record": {"type": "object", "description": "suppliers only: answers, silence, disputes lost, deposit charged",
                                                                             "required": ["supplierId", "answeredInTime", "answeredLate", "silent", "disputesLost", "depositChargedFen"],
                                                                             "properties": {"supplierId": {"type": "string"}, "answeredInTime": {"type": "integer"},
                                                                                            "answeredLate": {"type": "integer"}, "silent": {"type": "integer"},
                                                                                            "disputesLost": {"type": "integer"}, "depositChargedFen": {"type": "integer"},
                                                                                            "refusedReplies": {"type": "integer"}}},
                                                                  "flag": {"type": "object", "required": ["day", "orders", "refunds", "baselineRateBp", "pValue", "flaggedAt"],
                                                                           "properties": {"day": {"type": "string", "format": "date"},
                                                                                          "orders": {"type": "integer"}, "refunds": {"type": "integer"},
                                                                                          "baselineRateBp": {"type": "integer"}, "pValue": {"type": "number"},
                                                                                          "flaggedAt": {"type": "string", "format": "date-time"}}}}}}}},
          "StoredEvidence": {"type": "object", "required": ["kind"],
                             "properties": {"kind": {"type": "string"}, "reference": {"type": "string"}, "text": {"type": "string"},
                                            "addedAt": {"type": "string", "format": "date-time"}, "addedBy": {"type": "string"}}},
          "RefundList": {"type": "object", "required": ["refunds"], "properties": {"refunds": {"type": "array", "items": {"$ref": "#/components/schemas/Refund"}}}},
          "ReviewQueue": {"type": "object", "required": ["items"],
                          "properties": {"items": {"type": "array", "items": {"type": "object", "required": ["refund", "buyerId", "overdue", "buyerHistory"],
                                         "properties": {"refund": {"$ref": "#/components/schemas/Refund"}, "buyerId": {"type": "string"}, "overdue": {"type": "boolean"},
                                                        "findings": {"type": "object"}, "excludedReviewer": {"type": "string"},
                                                        "buyerHistory": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}},
          "Accepted": {"type": "object", "required": ["accepted"], "properties": {"accepted": {"type": "boolean"}}},
          "Error": {"type": "object", "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"],
                                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
        },
        "responses": {
          "Error": {"description": "refused: see error.code", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "security": [{"bearer": []}],
      "paths": {
        "/v1/refunds": {
          "post": {"summary": "Apply for a refund", "operationId": "apply",
                   "parameters": [{"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Apply"}}}},
                   "responses": {"201": {"description": "applied", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                 "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                                 "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                                 "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                                 "422": {"$ref": "#/components/responses/Error"}}},
          "get": {"summary": "Refunds of an order", "operationId": "listByOrder",
                  "parameters": [{"name": "order", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1}}],
                  "responses": {"200": {"description": "the caller's refunds of the order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefundList"}}}},
                                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}": {
          "get": {"summary": "A refund with its timeline", "operationId": "getRefund",
                  "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                  "responses": {"200": {"description": "the refund", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}/evidence": {
          "post": {"summary": "Supplement evidence", "operationId": "addEvidence",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BuyerAction"}}}},
                   "responses": {"200": {"description": "accepted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                 "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}/appeal": {
          "post": {"summary": "Appeal a rejection, once", "operationId": "appeal",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BuyerAction"}}}},
                   "responses": {"200": {"description": "appealed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}/withdraw": {
          "post": {"summary": "Withdraw before money moves", "operationId": "withdraw",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "responses": {"200": {"description": "withdrawal sent", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}/fallback": {
          "post": {"summary": "After a failed payout, choose where the money goes instead", "operationId": "fallback",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["route"], "additionalProperties": false, "if": {"properties": {"route": {"const": "account"}}}, "then": {"required": ["account"]}, "properties": {"route": {"type": "string", "enum": ["balance", "account"]}, "note": {"type": "string", "minLength": 1, "maxLength": 2000}, "evidence": {"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/Evidence"}}, "account": {"type": "object", "required": ["channel", "number"], "additionalProperties": false, "description": "a bank card of 12-19 digits, or an Alipay mobile number or e-mail; spaces and dashes between digits allowed", "properties": {"channel": {"type": "string", "enum": ["bank_card", "alipay"]}, "number": {"type": "string", "minLength": 1, "maxLength": 100}},
                     "allOf": [{"if": {"properties": {"channel": {"const": "bank_card"}}}, "then": {"properties": {"number": {"pattern": \#(numberPattern(.bankCard))}}}},
                               {"if": {"properties": {"channel": {"const": "alipay"}}}, "then": {"properties": {"number": {"pattern": \#(numberPattern(.alipay))}}}}]}}}}}},
                   "responses": {"200": {"description": "choice sent", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}}},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                                 "400": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/refunds/{id}/follow-up": {
          "post": {"summary": "Open a follow-up ticket on an overdue refund (in review over 48 h, or past its expected arrival)", "operationId": "followUp",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 2000}}}}}},
                   "responses": {"201": {"description": "ticket opened", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/messages": {
          "get": {"summary": "The buyer's in-app messages, newest first", "operationId": "messages",
                  "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
                  "responses": {"200": {"description": "the buyer's in-app messages", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Messages"}}}},
                                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                                "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/review/tickets": {
          "get": {"summary": "Open follow-up tickets with their refunds, oldest first", "operationId": "tickets",
                  "responses": {"200": {"description": "open tickets", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tickets"}}}},
                                "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/review/tickets/{id}/close": {
          "post": {"summary": "Answer and close a follow-up ticket", "operationId": "closeTicket",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["answer"], "additionalProperties": false, "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": 2000}}}}}},
                   "responses": {"200": {"description": "closed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/analytics/refund-rates": {
          "get": {"summary": "Refund rates by product, supplier or reason over a day, a week and 30 days, with abnormal-rise flags (reviewers)",
                  "operationId": "refundRates",
                  "parameters": [{"name": "dimension", "in": "query", "required": false,
                                  "schema": {"type": "string", "enum": ["product", "supplier", "reason"], "default": "product"}}],
                  "responses": {"200": {"description": "the rates", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefundRates"}}}},
                                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                                "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/review/queue": {
          "get": {"summary": "Manual review queue, overdue then oldest first", "operationId": "reviewQueue",
                  "responses": {"200": {"description": "the queue", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReviewQueue"}}}},
                                "403": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/review/{id}/decision": {
          "post": {"summary": "Decide a case: approve (full or partial), reject with reason, ask for evidence", "operationId": "decide",
                   "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                   "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                   "responses": {"202": {"description": "decision sent", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                                 "400": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                                 "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                                 "422": {"$ref": "#/components/responses/Error"}}}
        }
      }
    }
    """#
}
