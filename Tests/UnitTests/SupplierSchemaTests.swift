import Foundation
import RefundModel
import Testing

/// The supplier protocol's schemas live as JSON files beside PROTOCOL.md (what suppliers read); the service checks
/// replies against the same text compiled in (`SupplierSchemas.swift`, generated from the files: this test says when
/// it is behind). And the checker agrees with the document on what is refused.
@Suite("Supplier protocol schemas")
struct SupplierSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("SupplierSchemas.swift holds exactly the schema files")
    func compiledInMatchesFiles() throws {
        let dir = Self.root.appendingPathComponent("Services/supplier-verification/schemas")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".schema.json") }.sorted()
        var swift = """
            // Generated from Services/supplier-verification/schemas by SupplierSchemaTests (REGENERATE=1 swift test
            // --filter SupplierSchemaTests): edit the JSON files, then regenerate. Do not edit here.

            /// The supplier protocol's JSON Schemas, by file name, compiled in so the service checks replies against them.
            public enum SupplierSchemas {
                public static let texts: [String: String] = [

            """
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            swift += "        \"\(name)\": #\"\"\"\n\(text.hasSuffix("\n") ? text : text + "\n")\"\"\"#,\n"
        }
        swift += "    ]\n}\n"
        let file = Self.root.appendingPathComponent("Shared/RefundModel/Messages/SupplierSchemas.swift")
        let actual = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if actual != swift, ProcessInfo.processInfo.environment["REGENERATE"] == "1" {
            try swift.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(actual == swift, "regenerate with: REGENERATE=1 swift test --filter SupplierSchemaTests")
        #expect(names.count == 4 && Set(SupplierSchemas.texts.keys) == Set(names))
    }

    static let schemas = try! JSONSchemaSet(SupplierSchemas.texts)

    static func reply(_ payload: String, envelope: String = #""id": "0b9f4c7e-5d1a-4c36-9a77-2f0e8d6c1b23", "type": "supplier.verification-reply", "schemaVersion": 1, "occurredAt": "2026-11-22T03:05:00Z""#) -> [String] {
        let json = "{\(envelope), \"payload\": \(payload)}"
        return schemas.problems(try! JSONValue.parse(Array(json.utf8)), document: SupplierProtocol.replySchema)
    }

    @Test("valid replies pass: every answer, upper-case ids, unknown fields")
    func valid() {
        let request = #""requestId": "8017b5e7-1bbb-4bb2-89d0-ad3f5cb728f8""#
        for payload in [#"{\#(request), "answer": "confirmed"}"#, #"{\#(request), "answer": "unknown-order"}"#,
                        #"{\#(request), "answer": "partial", "usedBp": 4000}"#,
                        #"{\#(request), "answer": "used", "usedAt": "2026-11-21T20:14:03.123Z", "log": "x"}"#,
                        #"{"requestId": "8017B5E7-1BBB-4BB2-89D0-AD3F5CB728F8", "answer": "confirmed", "extra": [1]}"#] {
            #expect(Self.reply(payload).isEmpty, "\(payload): \(Self.reply(payload))")
        }
    }

    @Test("what the document refuses, the checker refuses, saying where")
    func refused() {
        let request = #""requestId": "8017b5e7-1bbb-4bb2-89d0-ad3f5cb728f8""#
        let cases: [(String, String)] = [
            (#"{\#(request), "answer": "partial"}"#, "payload.usedBp: is required"),
            (#"{\#(request), "answer": "partial", "usedBp": "4000"}"#, "payload.usedBp: must be an integer"),
            (#"{\#(request), "answer": "partial", "usedBp": 10000}"#, "payload.usedBp: at most 9999"),
            (#"{\#(request), "answer": "partial", "usedBp": 40.5}"#, "payload.usedBp: must be an integer"),
            (#"{\#(request), "answer": "maybe"}"#, "payload.answer: must be one of"),
            (#"{"requestId": "42", "answer": "confirmed"}"#, "payload.requestId: does not match"),
            (#"{"answer": "confirmed"}"#, "payload.requestId: is required"),
            (#"[1, 2]"#, "payload: must be an object"),
        ]
        for (payload, expected) in cases {
            let problems = Self.reply(payload)
            #expect(problems.contains { $0.hasPrefix(expected) }, "\(payload): \(problems)")
        }
        #expect(Self.reply(#"{\#(request), "answer": "confirmed"}"#, envelope: #""id": "x", "type": "supplier.verification-reply", "occurredAt": "2026-11-22T11:05:00+08:00""#)
            .count == 3, "id, schemaVersion and a local time")
    }

    @Test("a schema using a keyword the checker does not know is refused when loaded")
    func unknownKeyword() {
        #expect(throws: JSONSchemaSet.Unsupported.self) {
            try JSONSchemaSet(["x.schema.json": #"{"type": "object", "patternProperties": {}}"#])
        }
    }
}
