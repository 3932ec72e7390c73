import Foundation
import RefundModel
import Testing

private func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }

extension Component {
    @Suite("Intake API: idempotency, ownership, risk, timers, reviewers, bad input")
    struct IntakeAPITests {
        /// b-1 applies (and is rejected) in many tests: where a test is about something else, the risk and standing
        /// rules are switched off; they have their own tests.
        static let relaxedRisk = ["RISK_MAX_APPLICATIONS": "1000", "STANDING_MAX_REJECTIONS": "1000"]
        static let b1 = "buyer-token-b1-test-credential", b2 = "buyer-token-b2-test-credential"
        static let r1 = "reviewer-token-r1-test-credential", r2 = "reviewer-token-r2-test-credential"

        static func order(_ id: String, buyer: String = "b-1", paid: Int64 = 3_000, kind: ProductKind = .cardCode,
                          delivered: Bool = true) -> OrderFacts {
            OrderFacts(orderId: id, buyerId: buyer, paymentChannel: .wechat, placedAt: Date().addingTimeInterval(-7200),
                       paidAt: Date().addingTimeInterval(-7200), promisedDeliveryAt: Date().addingTimeInterval(-3600),
                       lines: [OrderLineFacts(lineId: "L1", productKind: kind, supplierId: "sup-1", listPrice: fen(paid),
                                              paid: fen(paid),
                                              deliveredAt: delivered ? Date().addingTimeInterval(-3000) : nil)])
        }

        /// Places the order and waits until intake knows it (a GET of its refunds answers 200 once it exists).
        static func place(_ s: ServiceProcesses, _ facts: OrderFacts) throws {
            try Marketplace.place(facts)
            // 30 s, not less: on a loaded 2-core CI machine a freshly started intake can take a while to drain.
            let known = try TestStack.eventually(30) {
                let db = try TestStack.database()
                defer { db.close() }
                return !(try db.query("SELECT 1 AS one FROM intake.orders WHERE order_id = $1", [facts.orderId]).isEmpty)
            }
            try #require(known, "intake never stored order \(facts.orderId); intake's log: \(s.log("intake").suffix(3000))")
        }

        static func applyBody(_ orderId: String, reason: RefundReason = .invalidCode,
                              evidence: [EvidenceKind] = [.orderNumber, .activationFailureLog],
                              extra: [String: Any] = [:]) -> [String: Any] {
            var b: [String: Any] = ["orderId": orderId, "lineId": "L1", "reason": reason.rawValue,
                                    "evidence": evidence.map { ["kind": $0.rawValue, "reference": "up-\($0.rawValue)"] }]
            for (k, v) in extra { b[k] = v }
            return b
        }

        static func rowCount(order: String) throws -> Int {
            let db = try TestStack.database()
            defer { db.close() }
            return try db.query("SELECT count(*) AS n FROM intake.refunds WHERE order_id = $1", [order])[0].int("n")
        }

        @Test("the same Idempotency-Key with the same body returns the first answer; another body gets 409")
        func idempotentApply() throws {
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            let o = TestStack.unique("idem")
            try Self.place(s, Self.order(o))
            let body = s.json(Self.applyBody(o))
            let first = try s.http("POST", "/v1/refunds", token: Self.b1, body: body, headers: ["Idempotency-Key": "k-1"])
            let again = try s.http("POST", "/v1/refunds", token: Self.b1, body: body, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 201 && again.status == 201)
            #expect(first.json["id"] as? String == again.json["id"] as? String)
            let other = try s.http("POST", "/v1/refunds", token: Self.b1,
                                   body: s.json(Self.applyBody(o, extra: ["giftReturned": true])),
                                   headers: ["Idempotency-Key": "k-1"])
            #expect(other.status == 409 && other.errorCode == "idempotency_key_reused")
            // A new key for the same line: one refund per line is open at a time.
            let second = try s.http("POST", "/v1/refunds", token: Self.b1, body: body, headers: ["Idempotency-Key": "k-2"])
            #expect(second.status == 409 && second.errorCode == "refund_already_open")
            #expect(try Self.rowCount(order: o) == 1)
            let missingKey = try s.http("POST", "/v1/refunds", token: Self.b1, body: body)
            #expect(missingKey.status == 400 && missingKey.errorCode == "idempotency_key_required")
        }

        @Test("another buyer's order is a 404 exactly like an unknown one, and another buyer's refund is invisible")
        func otherBuyersOrder() throws {
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            let o = TestStack.unique("own")
            try Self.place(s, Self.order(o, buyer: "b-1"))
            let theirs = try s.http("POST", "/v1/refunds", token: Self.b2, body: s.json(Self.applyBody(o)),
                                    headers: ["Idempotency-Key": "x-1"])
            let unknown = try s.http("POST", "/v1/refunds", token: Self.b2,
                                     body: s.json(Self.applyBody(TestStack.unique("nope"))),
                                     headers: ["Idempotency-Key": "x-2"])
            #expect(theirs.status == 404 && unknown.status == 404)
            #expect(theirs.body == unknown.body, "the answer must not reveal that the order exists")
            #expect(try Self.rowCount(order: o) == 0)
            let mine = try s.http("POST", "/v1/refunds", token: Self.b1, body: s.json(Self.applyBody(o)),
                                  headers: ["Idempotency-Key": "x-3"])
            let id = try #require(mine.json["id"] as? String)
            #expect(try s.http("GET", "/v1/refunds/\(id)", token: Self.b2).status == 404)
            let listed = try s.http("GET", "/v1/refunds?order=\(o)", token: Self.b2).json["refunds"] as? [Any]
            #expect(listed?.isEmpty == true)
            #expect(try s.http("GET", "/v1/refunds/\(id)", token: nil).status == 401)
            #expect(try s.http("GET", "/v1/review/queue", token: Self.b1).status == 403)
            #expect(try s.http("POST", "/v1/review/\(id)/decision", token: Self.b1,
                               body: s.json(["decision": "approve"])).status == 403)
        }

        @Test("a buyer's fourth application in the risk window goes to manual review")
        func riskFrequency() throws {
            let s = try ServiceProcesses(["intake", "auto-review"])
            defer { s.stop() }
            // A buyer of its own (b-2) so other tests' applications do not count.
            var ids: [String] = []
            for i in 0..<4 {
                let o = TestStack.unique("risk\(i)")
                try Self.place(s, Self.order(o, buyer: "b-2", delivered: false))
                let r = try s.http("POST", "/v1/refunds", token: Self.b2,
                                   body: s.json(Self.applyBody(o, reason: .notDelivered, evidence: [])),
                                   headers: ["Idempotency-Key": UUID().uuidString])
                ids.append(try #require(r.json["id"] as? String))
                _ = try s.waitForRefund(ids[i], token: Self.b2) { ($0["state"] as? String) != "submitted" }
            }
            let fourth = try s.waitForRefund(ids[3], token: Self.b2) { ($0["state"] as? String) != "submitted" }
            #expect(fourth["state"] as? String == "manual_review")
            #expect((fourth["timeline"] as? [[String: Any]])?.last?["rule"] as? String == RuleID.riskFrequency.rawValue)
            let third = try s.http("GET", "/v1/refunds/\(ids[2])", token: Self.b2).json
            #expect(third["state"] as? String == "approved", "the third is still a fast refund")
            // The reviewer sees it with the buyer's history and the pre-check's findings.
            let queue = try s.http("GET", "/v1/review/queue", token: Self.r1).json["items"] as? [[String: Any]] ?? []
            let item = try #require(queue.first { ($0["refund"] as? [String: Any])?["id"] as? String == ids[3] })
            #expect((item["findings"] as? [String: Any])?["rule"] as? String == RuleID.riskFrequency.rawValue)
            #expect(((item["buyerHistory"] as? [String: Int])?.values.reduce(0, +) ?? 0) >= 4)
        }

        @Test("undecided past the review SLA (seconds here, 48 h by default): approved as advance compensation")
        func slaTimer() throws {
            let s = try ServiceProcesses(["intake", "auto-review"],
                                         env: Self.relaxedRisk.merging(["REVIEW_SLA_SECONDS": "2"]) { $1 })
            defer { s.stop() }
            // Supplier verification is not running here: its queue receives what auto-review approves.
            let setup = try TestStack.connect()
            let q = Topology.queue(for: .supplierVerification)
            try TestStack.declare(setup, queue: q.name, bindings: q.bindings)
            setup.close()
            let o = TestStack.unique("sla")
            try Self.place(s, Self.order(o, kind: .membership))
            let r = try s.http("POST", "/v1/refunds", token: Self.b1,
                               body: s.json(Self.applyBody(o, reason: .notAsDescribed,
                                                           evidence: [.productPage, .differenceProof])),
                               headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(r.json["id"] as? String)
            let waiting = try s.waitForRefund(id, token: Self.b1) { ($0["state"] as? String) == "manual_review" }
            #expect(waiting["expectedNextBy"] != nil)
            let paid = try s.waitForRefund(id, token: Self.b1, seconds: 30) { ($0["state"] as? String) == "approved" }
            #expect(paid["state"] as? String == "approved")
            let step = (paid["timeline"] as? [[String: Any]])?.last ?? [:]
            #expect(step["rule"] as? String == RuleID.slaAdvanceCompensation.rawValue)
            #expect((step["explanation"] as? String)?.contains("platform pays") == true)
            #expect((paid["amount"] as? [String: Any])?["minorUnits"] as? Int == 3_000)
            // And it went on to supplier verification with the advance-compensation flag.
            let approved = try TestStack.drain("supplier-verification").compactMap {
                try? MessageCoding.decoder().decode(Envelope<RefundApproved>.self, from: Data($0.body))
            }
            let mine = try #require(approved.first { $0.payload.refundId.description == id })
            #expect(mine.payload.advanceCompensation && mine.payload.amount == fen(3_000))
        }

        @Test("needs evidence → supplemented → approved; a reviewer can approve part; a withdrawal ends it")
        func evidenceReviewAndWithdraw() throws {
            let s = try ServiceProcesses(["intake", "auto-review"], env: Self.relaxedRisk)
            defer { s.stop() }
            // Needs evidence, then the buyer adds the missing log.
            let o1 = TestStack.unique("ev")
            try Self.place(s, Self.order(o1))
            let r1 = try s.http("POST", "/v1/refunds", token: Self.b1,
                                body: s.json(Self.applyBody(o1, evidence: [.orderNumber])),
                                headers: ["Idempotency-Key": UUID().uuidString])
            let id1 = try #require(r1.json["id"] as? String)
            let needs = try s.waitForRefund(id1, token: Self.b1) { ($0["state"] as? String) == "needs_evidence" }
            #expect(needs["missingEvidence"] as? [String] == ["activation_failure_log|unused_proof"])
            let add = try s.http("POST", "/v1/refunds/\(id1)/evidence", token: Self.b1,
                                 body: s.json(["evidence": [["kind": "unused_proof", "reference": "up-2"]]]))
            #expect(add.status == 200)
            let done = try s.waitForRefund(id1, token: Self.b1) { ($0["state"] as? String) == "approved" }
            #expect((done["timeline"] as? [[String: Any]])?.last?["rule"] as? String == RuleID.invalidCode.rawValue)

            // Manual review, approved in part by a reviewer.
            let o2 = TestStack.unique("part")
            try Self.place(s, Self.order(o2, paid: 12_000, kind: .membership))
            let r2 = try s.http("POST", "/v1/refunds", token: Self.b1,
                                body: s.json(Self.applyBody(o2, reason: .notAsDescribed,
                                                            evidence: [.productPage, .differenceProof])),
                                headers: ["Idempotency-Key": UUID().uuidString])
            let id2 = try #require(r2.json["id"] as? String)
            _ = try s.waitForRefund(id2, token: Self.b1) { ($0["state"] as? String) == "manual_review" }
            let tooMuch = try s.http("POST", "/v1/review/\(id2)/decision", token: Self.r1,
                                     body: s.json(["decision": "approve",
                                                   "approvedAmount": ["minorUnits": 12_001, "currency": "CNY"]]))
            #expect(tooMuch.status == 422 && tooMuch.errorCode == "amount_exceeds_refundable")
            let part = try s.http("POST", "/v1/review/\(id2)/decision", token: Self.r1,
                                  body: s.json(["decision": "approve",
                                                "approvedAmount": ["minorUnits": 6_000, "currency": "CNY"]]))
            #expect(part.status == 202)
            let approved = try s.waitForRefund(id2, token: Self.b1) { ($0["state"] as? String) == "approved" }
            #expect((approved["amount"] as? [String: Any])?["minorUnits"] as? Int == 6_000)
            #expect((approved["timeline"] as? [[String: Any]])?.last?["actor"] as? String == "reviewer:r-1")

            // Withdrawn while waiting for evidence.
            let o3 = TestStack.unique("wd")
            try Self.place(s, Self.order(o3))
            let r3 = try s.http("POST", "/v1/refunds", token: Self.b1,
                                body: s.json(Self.applyBody(o3, evidence: [])),
                                headers: ["Idempotency-Key": UUID().uuidString])
            let id3 = try #require(r3.json["id"] as? String)
            _ = try s.waitForRefund(id3, token: Self.b1) { ($0["state"] as? String) == "needs_evidence" }
            #expect(try s.http("POST", "/v1/refunds/\(id3)/withdraw", token: Self.b1).status == 200)
            let gone = try s.waitForRefund(id3, token: Self.b1) { ($0["state"] as? String) == "withdrawn" }
            #expect(gone["state"] as? String == "withdrawn")
            #expect(try s.http("POST", "/v1/refunds/\(id3)/withdraw", token: Self.b1).status == 409)
        }

        @Test("rejected by a reviewer, appealed once, decided by a different reviewer")
        func appeal() throws {
            let s = try ServiceProcesses(["intake", "auto-review"], env: Self.relaxedRisk)
            defer { s.stop() }
            let o = TestStack.unique("appeal")
            try Self.place(s, Self.order(o, paid: 9_900, kind: .membership))
            let r = try s.http("POST", "/v1/refunds", token: Self.b1,
                               body: s.json(Self.applyBody(o, reason: .notAsDescribed,
                                                           evidence: [.productPage, .differenceProof])),
                               headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(r.json["id"] as? String)
            _ = try s.waitForRefund(id, token: Self.b1) { ($0["state"] as? String) == "manual_review" }
            #expect(try s.http("POST", "/v1/refunds/\(id)/appeal", token: Self.b1,
                               body: s.json(["note": "too early"])).status == 409)
            let reject = try s.http("POST", "/v1/review/\(id)/decision", token: Self.r1,
                                    body: s.json(["decision": "reject", "reason": "the membership matches the page"]))
            #expect(reject.status == 202)
            let rejected = try s.waitForRefund(id, token: Self.b1) { ($0["state"] as? String) == "rejected" }
            #expect(rejected["rejectionReason"] as? String == "the membership matches the page")
            let appeal = try s.http("POST", "/v1/refunds/\(id)/appeal", token: Self.b1,
                                    body: s.json(["note": "see the new screenshot",
                                                  "evidence": [["kind": "difference_proof", "reference": "up-9"]]]))
            #expect(appeal.status == 200)
            _ = try s.waitForRefund(id, token: Self.b1) { ($0["state"] as? String) == "appealed" }
            let same = try s.http("POST", "/v1/review/\(id)/decision", token: Self.r1,
                                  body: s.json(["decision": "approve"]))
            #expect(same.status == 409 && same.errorCode == "same_reviewer")
            let queue = try s.http("GET", "/v1/review/queue", token: Self.r2).json["items"] as? [[String: Any]] ?? []
            let item = try #require(queue.first { ($0["refund"] as? [String: Any])?["id"] as? String == id })
            #expect(item["excludedReviewer"] as? String == "r-1")
            #expect(try s.http("POST", "/v1/review/\(id)/decision", token: Self.r2,
                               body: s.json(["decision": "approve"])).status == 202)
            let done = try s.waitForRefund(id, token: Self.b1) { ($0["state"] as? String) == "approved" }
            #expect((done["amount"] as? [String: Any])?["minorUnits"] as? Int == 9_900)
            #expect((done["timeline"] as? [[String: Any]])?.last?["actor"] as? String == "reviewer:r-2")
            #expect(try s.http("POST", "/v1/refunds/\(id)/appeal", token: Self.b1, body: s.json(["note": "again"]))
                .status == 409)
        }

        @Test("bad input: each refusal has its status and code, and nothing is written")
        func badInput() throws {
            let s = try ServiceProcesses(["intake"], env: ["BODY_LIMIT_BYTES": "4096"])
            defer { s.stop() }
            let o = TestStack.unique("bad")
            try Self.place(s, Self.order(o, paid: 3_000))
            func body(_ extra: [String: Any]) -> Data { s.json(Self.applyBody(o, extra: extra)) }
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            let cases: [(String, Data, Int, String)] = [
                ("malformed", Data("{\"orderId\": ".utf8), 400, "malformed_json"),
                ("not an object", Data("[1,2]".utf8), 400, "body_not_object"),
                ("unknown field", body(["colour": "red"]), 400, "unknown_field"),
                ("sets state", body(["state": "approved"]), 400, "field_not_allowed"),
                ("sets approved amount", body(["approvedAmount": ["minorUnits": 1, "currency": "CNY"]]), 400,
                 "field_not_allowed"),
                ("too large", Data(("{\"orderId\": \"" + String(repeating: "x", count: 5_000) + "\"}").utf8), 413,
                 "body_too_large"),
                ("too deep", Data("{\"evidence\": \(deep)}".utf8), 400, "too_deeply_nested"),
                ("negative", body(["requestedAmount": ["minorUnits": -100, "currency": "CNY"]]), 422,
                 "amount_not_positive"),
                ("zero", body(["requestedAmount": ["minorUnits": 0, "currency": "CNY"]]), 422, "amount_not_positive"),
                ("fractional", body(["requestedAmount": ["minorUnits": 10.5, "currency": "CNY"]]), 422,
                 "amount_not_integer"),
                ("above refundable", body(["requestedAmount": ["minorUnits": 3_001, "currency": "CNY"]]), 422,
                 "amount_exceeds_refundable"),
                ("wrong currency", body(["requestedAmount": ["minorUnits": 100, "currency": "USD"]]), 422,
                 "currency_mismatch"),
                ("amount as string", body(["requestedAmount": "100"]), 400, "wrong_type"),
                ("unknown reason", s.json(["orderId": o, "lineId": "L1", "reason": "bored"]), 400, "unknown_reason"),
                ("unknown evidence kind", body(["evidence": [["kind": "selfie", "reference": "x"]]]), 400,
                 "unknown_evidence_kind"),
                ("missing line", s.json(["orderId": o, "reason": "invalid_code"]), 400, "missing_field"),
                ("wrong type", s.json(["orderId": 42, "lineId": "L1", "reason": "invalid_code"]), 400, "wrong_type"),
                ("unknown line", s.json(["orderId": o, "lineId": "L9", "reason": "invalid_code"]), 404,
                 "line_not_found"),
            ]
            for (name, data, status, code) in cases {
                let r = try s.http("POST", "/v1/refunds", token: Self.b1, body: data,
                                   headers: ["Idempotency-Key": UUID().uuidString])
                #expect(r.status == status, "\(name): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
                #expect(r.errorCode == code, "\(name): \(String(decoding: r.body, as: UTF8.self))")
                #expect((r.json["error"] as? [String: Any])?["message"] as? String != nil, "\(name): a message")
            }
            let noToken = try s.http("POST", "/v1/refunds", token: nil, body: body([:]),
                                     headers: ["Idempotency-Key": "nt"])
            #expect(noToken.status == 401 && noToken.errorCode == "unauthorized")
            let badToken = try s.http("POST", "/v1/refunds", token: "guessed-token", body: body([:]),
                                      headers: ["Idempotency-Key": "bt"])
            #expect(badToken.status == 401)
            #expect(try Self.rowCount(order: o) == 0, "a refused request writes nothing")
            let db = try TestStack.database()
            #expect(try db.query("SELECT count(*) AS n FROM intake.idempotency WHERE body LIKE $1", ["%\(o)%"])[0]
                .int("n") == 0)
            // The service is still healthy after all that.
            #expect(try s.http("POST", "/v1/refunds", token: Self.b1, body: body([:]),
                               headers: ["Idempotency-Key": UUID().uuidString]).status == 201)
        }
    }
}
