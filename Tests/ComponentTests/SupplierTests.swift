import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("Supplier verification with the supplier sandbox (DOMAIN.md §4)")
    struct SupplierTests {
        static let behaviours = "sup-confirm=confirmed,sup-used=used,sup-partial=partial:4000,sup-late=late:5,"
            + "sup-silent=silent,sup-twice=twice,sup-garbage=garbage,sup-unknown=unknown-order,sup-fix=fix"

        /// intake, auto-review and supplier-verification (3-second answer deadline), the sandbox, and the payout
        /// queue declared so `refund.verified` can be read where payout would.
        static func start(extraSuppliers: [String] = [], answerSeconds: Int = 3) throws -> (ServiceProcesses, Process) {
            let setup = try TestStack.connect()
            let q = Topology.queue(for: .payout)
            try TestStack.declare(setup, queue: q.name, bindings: q.bindings)
            try setup.purgeQueue(q.name)
            let s = try ServiceProcesses(["intake", "auto-review", "supplier-verification"],
                                         env: IntakeAPITests.relaxedRisk.merging([
                                             "SUPPLIER_ANSWER_SECONDS": String(answerSeconds),
                                             "SUPPLIER_IDS": ([try TestStack.setting("SANDBOX_SUPPLIER_IDS")]
                                                              + extraSuppliers).joined(separator: ","),
                                         ]) { $1 })
            try setup.purgeQueue(Topology.deadLetterQueue(of: ServiceName.supplierVerification.rawValue))
            setup.close()
            let sandbox = Process()
            sandbox.executableURL = URL(fileURLWithPath: TestStack.binPath + "/supplier-sandbox")
            sandbox.environment = ProcessInfo.processInfo.environment.merging(["SANDBOX_SUPPLIERS": behaviours]) { $1 }
            let log = NSTemporaryDirectory() + "sandbox-\(UUID().uuidString.prefix(6)).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            sandbox.standardError = FileHandle(forWritingAtPath: log)
            sandbox.standardOutput = FileHandle(forWritingAtPath: log)
            try sandbox.run()
            #expect(TestStack.eventually(20) {
                ServiceProcesses.read(log).components(separatedBy: "consuming as").count > 9
            }, "sandbox suppliers did not all start: \(ServiceProcesses.read(log))")
            return (s, sandbox)
        }

        /// Places a delivered card-code order supplied by `supplier` and applies (by default: invalid code, with the
        /// buyer's activation-failure log): auto-review approves it, so it goes to the supplier.
        static func refund(_ s: ServiceProcesses, supplier: String, paid: Int64 = 10_000, orderId: String? = nil,
                           body: ((String) -> [String: Any])? = nil) throws -> String {
            let o = orderId ?? TestStack.unique("sv")
            var facts = IntakeAPITests.order(o, paid: paid)
            facts.lines[0].supplierId = supplier
            try IntakeAPITests.place(s, facts)
            let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1,
                               body: s.json(body?(o) ?? IntakeAPITests.applyBody(o)),
                               headers: ["Idempotency-Key": UUID().uuidString])
            return try #require(r.json["id"] as? String, "\(r.status)")
        }

        /// Reads what arrived for payout, by refund id (every `refund.verified` ever seen in this run of the test).
        final class Verified {
            var byRefund: [String: [RefundVerified]] = [:]
            func poll() throws {
                // Payout's queue also carries order.placed (its own record of what orders paid).
                for d in try TestStack.drain(ServiceName.payout.rawValue, quietMillis: 300)
                    where d.routingKey == Topology.Key.refundVerified {
                    let v = try MessageCoding.decoder().decode(Envelope<RefundVerified>.self, from: Data(d.body))
                    byRefund[v.payload.approved.refundId.description, default: []].append(v.payload)
                }
            }
            func wait(_ id: String, seconds: Double = 20) throws -> RefundVerified? {
                _ = try TestStack.eventually(seconds) {
                    try poll()
                    return byRefund[id] != nil
                }
                return byRefund[id]?.first
            }
        }

        static func stats() throws -> [String: [String: Any]] {
            let r = try TestStack.run(TestStack.binPath + "/supplier-verification", ["stats"],
                                      env: ["DATABASE_URL": try TestStack.setting("SUPPLIER_VERIFICATION_DATABASE_URL")])
            let json = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
            var out: [String: [String: Any]] = [:]
            for row in json?["suppliers"] as? [[String: Any]] ?? [] { out[row["supplierId"] as! String] = row }
            return out
        }

        /// How much a supplier's counter grew between two `stats()` readings.
        static func delta(_ before: [String: [String: Any]], _ after: [String: [String: Any]], _ supplier: String,
                          _ key: String) -> Int {
            (after[supplier]?[key] as? Int ?? 0) - (before[supplier]?[key] as? Int ?? 0)
        }

        static func stop(_ s: ServiceProcesses, _ sandbox: Process) {
            s.stop()
            sandbox.terminate()
            sandbox.waitUntilExit()
        }

        static func explanations(_ refund: [String: Any]) -> [String] {
            (refund["timeline"] as? [[String: Any]] ?? []).compactMap { $0["explanation"] as? String }
        }

        @Test("confirmed, partial, unknown order, and used → dispute → arbitration for the buyer")
        func answers() throws {
            let (s, sandbox) = try Self.start()
            defer { Self.stop(s, sandbox) }
            let verified = Verified()
            let before = try Self.stats()

            let confirmed = try Self.refund(s, supplier: "sup-confirm")
            let v1 = try #require(try verified.wait(confirmed))
            #expect(v1.outcome == .confirmed && v1.amount.minorUnits == 10_000)
            let r1 = try s.waitForRefund(confirmed, token: IntakeAPITests.b1) {
                Self.explanations($0).contains { $0.contains("confirmed the item unused") }
            }
            #expect(r1["state"] as? String == "supplier_verification")
            #expect((r1["timeline"] as? [[String: Any]])?.last?["actor"] as? String == "supplier:sup-confirm")

            let partial = try Self.refund(s, supplier: "sup-partial")
            let v2 = try #require(try verified.wait(partial))
            #expect(v2.outcome == .partial && v2.amount.minorUnits == 6_000, "40 % used: 60 % of ¥100 back")
            let r2 = try s.waitForRefund(partial, token: IntakeAPITests.b1) {
                Self.explanations($0).contains { $0.contains("40% used") }
            }
            #expect(Self.explanations(r2).contains { $0.contains("40% used") }, "the buyer is told why")

            let unknown = try Self.refund(s, supplier: "sup-unknown")
            #expect(try verified.wait(unknown)?.outcome == .unknownOrder)

            let used = try Self.refund(s, supplier: "sup-used", paid: 7_700)
            let disputed = try s.waitForRefund(used, token: IntakeAPITests.b1) { ($0["state"] as? String) == "disputed" }
            #expect(disputed["state"] as? String == "disputed")
            #expect(Self.explanations(disputed).contains { $0.contains("arbitrate") })
            try verified.poll()
            #expect(verified.byRefund[used] == nil, "no money moves during a dispute")
            let queue = try s.http("GET", "/v1/review/queue", token: IntakeAPITests.r1).json["items"] as? [[String: Any]]
            #expect(queue?.contains { ($0["refund"] as? [String: Any])?["id"] as? String == used } == true)
            #expect(try s.http("POST", "/v1/review/\(used)/decision", token: IntakeAPITests.r1,
                               body: s.json(["decision": "approve"])).status == 202)
            let v4 = try #require(try verified.wait(used))
            #expect(v4.outcome == .arbitratedForBuyer && v4.amount.minorUnits == 7_700)

            let after = try Self.stats()
            func delta(_ sup: String, _ key: String) -> Int { Self.delta(before, after, sup, key) }
            #expect(delta("sup-confirm", "answeredInTime") == 1)
            #expect(delta("sup-used", "disputesLost") == 1)
            #expect(delta("sup-used", "depositChargedFen") == 7_700, "the supplier at fault pays from its deposit")
        }

        @Test("silence, a late answer, a duplicate, garbage and a forged answer change nothing they should not")
        func misbehaviour() throws {
            let (s, sandbox) = try Self.start()
            defer { Self.stop(s, sandbox) }
            let verified = Verified()
            let before = try Self.stats()

            let silent = try Self.refund(s, supplier: "sup-silent")
            let late = try Self.refund(s, supplier: "sup-late")
            let twice = try Self.refund(s, supplier: "sup-twice")
            let garbage = try Self.refund(s, supplier: "sup-garbage")
            // A reply the protocol refuses (partial without its share): the supplier is told, and corrects it.
            let fixed = try Self.refund(s, supplier: "sup-fix")

            // A reply by sup-confirm for sup-silent's request: RabbitMQ vouches for the user, the service refuses it.
            let db = try TestStack.database()
            var requestId = ""
            #expect(try TestStack.eventually(10) {
                requestId = (try db.query("SELECT request_id FROM supplier.requests WHERE refund_id = $1::uuid",
                                          [silent]).first?.string("request_id")) ?? ""
                return !requestId.isEmpty
            })
            let forger = try AMQPConnection(url: try AMQPURL(parsing: try TestStack.setting("SANDBOX_AMQP")
                .replacingOccurrences(of: "amqp://",
                                      with: "amqp://\(SupplierProtocol.amqpUser(supplier: "sup-confirm")):\(try TestStack.setting("SANDBOX_PASSWORD_PREFIX"))sup-confirm@")))
            try forger.enableConfirms()
            let forged = Envelope(type: SupplierProtocol.replyType, correlationId: silent,
                                  payload: VerificationReply(requestId: requestId, answer: .confirmed))
            let seq = try forger.publish(OutgoingMessage(
                exchange: Topology.eventsExchange, routingKey: SupplierProtocol.replyRoutingKey,
                messageId: forged.id.description, type: forged.type, userId: SupplierProtocol.amqpUser(supplier: "sup-confirm"),
                body: [UInt8](try MessageCoding.encoder().encode(forged))))
            #expect(try forger.waitForConfirms()[seq] == .confirmed)
            // And a supplier may not publish anything but replies (topic permission on refund.events).
            _ = try forger.publish(OutgoingMessage(exchange: Topology.eventsExchange,
                                                   routingKey: Topology.Key.refundVerified, messageId: "f2", type: "x",
                                                   userId: SupplierProtocol.amqpUser(supplier: "sup-confirm"), body: [1]))
            #expect(throws: AMQPError.self) { try forger.waitForConfirms() }

            // Silent: decided for the buyer at the deadline.
            let v1 = try #require(try verified.wait(silent))
            #expect(v1.outcome == .silentSupplier && v1.amount.minorUnits == 10_000)
            // Late: the deadline decided; the answer after it changes nothing.
            #expect(try verified.wait(late)?.outcome == .silentSupplier)
            // Twice: one verification only.
            #expect(try verified.wait(twice)?.outcome == .confirmed)
            // Garbage: dead-lettered with its reason; the request then times out like silence.
            #expect(try verified.wait(garbage)?.outcome == .silentSupplier)
            // Refused, told (supplier.reply-refused on its own queue), corrected before the deadline: it counts.
            #expect(try verified.wait(fixed)?.outcome == .confirmed, "a corrected reply before answerBy counts")
            usleep(3_000_000)  // let the late answer (5 s) arrive
            try verified.poll()
            for id in [silent, late, twice, garbage] {
                #expect(verified.byRefund[id]?.count == 1, "exactly one verification for \(id)")
            }
            let dead = try TestStack.drain(Topology.deadLetterQueue(of: ServiceName.supplierVerification.rawValue))
            let reasons = dead.compactMap { $0.headers[Topology.deadLetterReasonHeader] }
            #expect(reasons.contains { $0.contains("undecodable") }, "\(reasons)")
            #expect(reasons.contains { $0.contains("another supplier") }, "\(reasons)")

            let after = try Self.stats()
            func delta(_ sup: String, _ key: String) -> Int { Self.delta(before, after, sup, key) }
            #expect(delta("sup-silent", "silent") == 1)
            #expect(delta("sup-late", "silent") == 1 && delta("sup-late", "answeredLate") == 1)
            #expect(delta("sup-twice", "answeredInTime") == 1)
            // Refused replies are counted apart from silence: the garbage, the forgery, the uncorrected partial.
            #expect(delta("sup-garbage", "refusedReplies") == 1 && delta("sup-garbage", "silent") == 1)
            #expect(delta("sup-confirm", "refusedReplies") == 1, "the reply to another supplier's request")
            #expect(delta("sup-fix", "refusedReplies") == 1 && delta("sup-fix", "answeredInTime") == 1
                    && delta("sup-fix", "silent") == 0)
            #expect(s.log("supplier-verification").contains("supplier reply refused; the supplier was told"))
            #expect(s.log("supplier-verification").contains("duplicate reply ignored"))
            let r = try s.http("GET", "/v1/refunds/\(silent)", token: IntakeAPITests.b1).json
            #expect(Self.explanations(r).contains { $0.contains("decided in your favour") })
        }

        @Test("advance compensation (platform fault, no evidence): paid at approval, not after the supplier; a silent or a 'used' supplier is charged its deposit, nothing is disputed")
        func advanceCompensation() throws {
            let (s, sandbox) = try Self.start()
            defer { Self.stop(s, sandbox) }
            let verified = Verified()
            let before = try Self.stats()
            let platformFault = { (o: String) in IntakeAPITests.applyBody(o, reason: .platformFault, evidence: []) }
            let silent = try Self.refund(s, supplier: "sup-silent", paid: 5_000, body: platformFault)
            let used = try Self.refund(s, supplier: "sup-used", paid: 6_000, body: platformFault)
            // Paid now: verified at approval, well before the supplier's 3-second deadline decides anything.
            let v1 = try #require(try verified.wait(silent, seconds: 10))
            let v2 = try #require(try verified.wait(used, seconds: 10))
            #expect(v1.outcome == .advanceCompensation && v1.amount.minorUnits == 5_000)
            #expect(v2.outcome == .advanceCompensation && v2.amount.minorUnits == 6_000)
            let db = try TestStack.database()
            defer { db.close() }
            // The request still went to each supplier; its answer (or the deadline) settles the clawback.
            let charged = TestStack.eventually(15) {
                let after = (try? Self.stats()) ?? [:]
                return Self.delta(before, after, "sup-silent", "depositChargedFen") == 5_000
                    && Self.delta(before, after, "sup-used", "depositChargedFen") == 6_000
            }
            #expect(charged, "the silent and the 'used' supplier are both charged the advance")
            let after = try Self.stats()
            #expect(Self.delta(before, after, "sup-silent", "silent") == 1)
            #expect(Self.delta(before, after, "sup-used", "answeredInTime") == 1)
            Thread.sleep(forTimeInterval: 1)
            try verified.poll()
            #expect(verified.byRefund[silent]?.count == 1 && verified.byRefund[used]?.count == 1, "paid once each")
            for id in [silent, used] {
                let r = try s.http("GET", "/v1/refunds/\(id)", token: IntakeAPITests.b1).json
                let steps = (r["timeline"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
                #expect(!steps.contains("disputed") && !steps.contains("supplier_verification") && !steps.contains("needs_evidence"),
                        "the buyer's path never waits on the supplier: \(steps)")
            }
            // Reviewers see each supplier's record beside its refund rate, as supplier-verification keeps it.
            let sameRecord = try TestStack.eventually(15) {
                let rates = try s.http("GET", "/v1/analytics/refund-rates?dimension=supplier", token: IntakeAPITests.r1).json
                let row = (rates["rates"] as? [[String: Any]] ?? []).first { $0["key"] as? String == "sup-used" }
                let record = row?["record"] as? [String: Any]
                let now = try Self.stats()["sup-used"] ?? [:]
                return record?["depositChargedFen"] as? Int == now["depositChargedFen"] as? Int
                    && record?["answeredInTime"] as? Int == now["answeredInTime"] as? Int && record != nil
            }
            #expect(sameRecord, "the supplier's record beside its rate matches supplier-verification's")
        }
    }
}
