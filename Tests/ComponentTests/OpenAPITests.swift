import Foundation
import RefundModel
import Testing

/// Checks a JSON value against an OpenAPI 3.1 schema: the subset the document uses ($ref, type, required,
/// properties, additionalProperties, items, enum). Returns the problems found, empty when it conforms.
struct SchemaChecker {
    let document: [String: Any]

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return resolve(node as? [String: Any] ?? [:])
    }

    func problems(_ value: Any, _ schemaIn: [String: Any], at path: String = "$") -> [String] {
        let schema = resolve(schemaIn)
        var out: [String] = []
        if let allowed = schema["enum"] as? [String], let s = value as? String, !allowed.contains(s) {
            out.append("\(path): \(s) not in enum")
        }
        switch schema["type"] as? String {
        case "object":
            guard let o = value as? [String: Any] else { return ["\(path): not an object"] }
            for r in schema["required"] as? [String] ?? [] where o[r] == nil { out.append("\(path).\(r): missing") }
            let props = schema["properties"] as? [String: Any] ?? [:]
            for (k, v) in o {
                if let p = props[k] as? [String: Any] {
                    out += problems(v, p, at: "\(path).\(k)")
                } else if let extra = schema["additionalProperties"] {
                    if let b = extra as? Bool, !b { out.append("\(path).\(k): not in the schema") }
                    if let s = extra as? [String: Any] { out += problems(v, s, at: "\(path).\(k)") }
                }
            }
        case "array":
            guard let a = value as? [Any] else { return ["\(path): not an array"] }
            if let items = schema["items"] as? [String: Any] {
                for (i, v) in a.enumerated() { out += problems(v, items, at: "\(path)[\(i)]") }
            }
        case "string": if !(value is String) { out.append("\(path): not a string") }
        case "integer": if !(value is Int) { out.append("\(path): not an integer") }
        case "boolean": if !(value is Bool) { out.append("\(path): not a boolean") }
        default: break
        }
        return out
    }

    /// The schema the document gives for `method path` answering `status` (path in template form).
    func responseSchema(_ method: String, _ path: String, _ status: Int) -> [String: Any]? {
        guard let op = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any],
              let response = (op["responses"] as? [String: Any])?[String(status)] as? [String: Any] else { return nil }
        let resolved = resolve(response)
        return ((resolved["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
            as? [String: Any]
    }
}

extension Component {
    @Suite("OpenAPI document against real responses")
    struct OpenAPITests {
        @Test("every response of a walk through the API is documented and matches its schema")
        func responsesMatch() throws {
            let s = try ServiceProcesses(["intake", "auto-review"], env: IntakeAPITests.relaxedRisk)
            defer { s.stop() }
            let doc = try s.http("GET", "/openapi.json", token: nil)
            #expect(doc.status == 200)
            let checker = SchemaChecker(document: try #require(doc.json["paths"] != nil ? doc.json : nil))
            /// The answer is the one this call must get (a documented answer with the wrong status is still wrong), and
            /// its body matches the document's schema for that status.
            func check(_ method: String, _ template: String, _ expected: Int, _ r: ServiceProcesses.HTTPResult) {
                #expect(r.status == expected, "\(method) \(template) answered \(r.status), expected \(expected)")
                guard let schema = checker.responseSchema(method, template, r.status) else {
                    Issue.record("\(method) \(template) answered \(r.status), which the document does not list")
                    return
                }
                let value = (try? JSONSerialization.jsonObject(with: r.body)) ?? [:]
                let problems = checker.problems(value, schema)
                #expect(problems.isEmpty, "\(method) \(template) \(r.status): \(problems)")
            }
            // The checker itself can say no.
            let errorSchema = try #require(checker.responseSchema("post", "/v1/refunds", 400))
            #expect(!checker.problems(["error": ["code": 7]], errorSchema).isEmpty)
            #expect(!checker.problems(["error": ["code": "x"]], errorSchema).isEmpty)
            let b1 = IntakeAPITests.b1, r1 = IntakeAPITests.r1
            let o = TestStack.unique("oas")
            try IntakeAPITests.place(s, IntakeAPITests.order(o, kind: .membership))
            let apply = try s.http("POST", "/v1/refunds", token: b1,
                                   body: s.json(IntakeAPITests.applyBody(o, reason: .notAsDescribed,
                                                                         evidence: [.productPage, .differenceProof])),
                                   headers: ["Idempotency-Key": UUID().uuidString])
            check("post", "/v1/refunds", 201, apply)
            let id = try #require(apply.json["id"] as? String)
            _ = try s.waitForRefund(id, token: b1) { ($0["state"] as? String) == "manual_review" }
            check("get", "/v1/refunds/{id}", 200, try s.http("GET", "/v1/refunds/\(id)", token: b1))
            check("get", "/v1/refunds", 200, try s.http("GET", "/v1/refunds?order=\(o)", token: b1))
            check("get", "/v1/review/queue", 200, try s.http("GET", "/v1/review/queue", token: r1))
            check("post", "/v1/refunds/{id}/evidence", 200,
                  try s.http("POST", "/v1/refunds/\(id)/evidence", token: b1,
                             body: s.json(["evidence": [["kind": "other", "text": "chat log"]]])))
            check("post", "/v1/review/{id}/decision", 202,
                  try s.http("POST", "/v1/review/\(id)/decision", token: r1,
                             body: s.json(["decision": "reject", "reason": "matches the page"])))
            _ = try s.waitForRefund(id, token: b1) { ($0["state"] as? String) == "rejected" }
            check("post", "/v1/refunds/{id}/appeal", 200,
                  try s.http("POST", "/v1/refunds/\(id)/appeal", token: b1, body: s.json(["note": "look again"])))
            // Errors.
            check("post", "/v1/refunds", 400, try s.http("POST", "/v1/refunds", token: b1, body: Data("{".utf8),
                                                    headers: ["Idempotency-Key": "e1"]))
            check("post", "/v1/refunds", 401, try s.http("POST", "/v1/refunds", token: nil, body: Data("{}".utf8),
                                                    headers: ["Idempotency-Key": "e2"]))
            check("get", "/v1/refunds/{id}", 404, try s.http("GET", "/v1/refunds/\(UUID())", token: b1))
            check("post", "/v1/refunds/{id}/appeal", 409,
                  try s.http("POST", "/v1/refunds/\(id)/appeal", token: b1, body: s.json(["note": "again"])))
            check("get", "/v1/review/queue", 403, try s.http("GET", "/v1/review/queue", token: b1))
            // Inbox and follow-up tickets.
            check("get", "/v1/messages", 200, try s.http("GET", "/v1/messages?limit=5", token: b1))
            check("get", "/v1/messages", 403, try s.http("GET", "/v1/messages", token: r1))
            // A limit that is not a whole number in 1...200 is refused, as the document says, not read as the default.
            for bad in ["true", "0", "201", "1.5", ""] {
                let r = try s.http("GET", "/v1/messages?limit=\(bad)", token: b1)
                #expect(r.status == 400, "limit=\(bad) answered \(r.status)")
                check("get", "/v1/messages", 400, r)
            }
            check("post", "/v1/refunds/{id}/follow-up", 409,
                  try s.http("POST", "/v1/refunds/\(id)/follow-up", token: b1, body: s.json(["note": "news?"])))
            try TestStack.database().query(
                "UPDATE intake.timeline SET at = at - interval '49 hours' WHERE refund_id = $1::uuid", [id])
            let ticket = try s.http("POST", "/v1/refunds/\(id)/follow-up", token: b1, body: s.json(["note": "news?"]))
            check("post", "/v1/refunds/{id}/follow-up", 201, ticket)
            check("get", "/v1/review/tickets", 200, try s.http("GET", "/v1/review/tickets", token: r1))
            check("post", "/v1/review/tickets/{id}/close", 200,
                  try s.http("POST", "/v1/review/tickets/\(ticket.json["id"] as? String ?? "")/close", token: r1,
                             body: s.json(["answer": "decided today"])))
            check("post", "/v1/refunds/{id}/withdraw", 200, try s.http("POST", "/v1/refunds/\(id)/withdraw", token: b1))
        }
    }
}
