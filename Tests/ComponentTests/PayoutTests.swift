import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("Payout with the payment-channel sandbox (DOMAIN.md §5)")
    struct PayoutTests {
        /// Intake, auto-review, supplier-verification (card codes pass straight on here), payout (1 s channel
        /// timeout, 0.3 s polls) and the payment sandbox (WeChat answers PROCESSING for 1 s).
        final class Stack {
            let upstream: ServiceProcesses
            var payout: ServiceProcesses
            let sandbox: Process
            let sandboxPort = TestStack.freePort()
            let callbackPort = TestStack.freePort()
            static let callbackSecret = "test-callback-secret-0123"
            let payoutEnv: [String: String]

            /// `payout`/`sandbox`: settings on top of the defaults (e.g. slower polls so only callbacks settle).
            init(payout extraPayout: [String: String] = [:], sandbox extraSandbox: [String: String] = [:]) throws {
                (sandbox, _) = try ServiceProcesses.launchTool("payment-sandbox", env: [
                    "SANDBOX_HTTP_PORT": String(sandboxPort), "SANDBOX_PROCESSING_SECONDS": "1",
                    "SANDBOX_CALLBACK_URL": "http://127.0.0.1:\(callbackPort)/v1/channel-callbacks",
                    "SANDBOX_CALLBACK_SECRET": Self.callbackSecret,
                ].merging(extraSandbox) { $1 }, ready: "Server started")
                let upstreamEnv = IntakeAPITests.relaxedRisk.merging(["VERIFY_KINDS": "physical"]) { $1 }
                upstream = try ServiceProcesses.orStop([sandbox]) {
                    try ServiceProcesses(["intake", "auto-review", "supplier-verification"], env: upstreamEnv)
                }
                payoutEnv = [
                    "CHANNEL_URL": "http://127.0.0.1:\(sandboxPort)", "CHANNEL_TIMEOUT_SECONDS": "1",
                    "PAYOUT_POLL_SECONDS": "0.3", "CALLBACK_PORT": String(callbackPort),
                    "CHANNEL_SECRETS": "*=\(Self.callbackSecret)",
                ].merging(extraPayout) { $1 }
                let env = payoutEnv
                payout = try ServiceProcesses.orStop([sandbox]) { try ServiceProcesses(["payout"], env: env) }
                let c = try TestStack.connect()
                try c.purgeQueue(Topology.deadLetterQueue(of: ServiceName.payout.rawValue))
                c.close()
            }

            func restartPayoutAfterKill() throws {
                payout.kill9("payout")
                payout = try ServiceProcesses(["payout"], env: payoutEnv)
            }

            func stop() {
                payout.stop()
                upstream.stop()
                sandbox.terminate()
                sandbox.waitUntilExit()
            }

            /// Publishes a `refund.verified` for `order` as a faulty upstream might, and returns what payout
            /// dead-lettered.
            func verifiedByFaultyUpstream(order: String, line: String, fen: Int64, linePaid: Int64,
                                          orderPaid: Int64? = nil) throws -> String? {
                let refund = RefundID()
                let extra = RefundVerified(
                    approved: RefundApproved(refundId: refund, orderId: order, lineId: line, buyerId: "b-1",
                                             supplierId: "sup-1", productKind: .cardCode, reason: .invalidCode,
                                             amount: try Money(minorUnits: fen), linePaid: try Money(minorUnits: linePaid),
                                             paymentChannel: .alipay, preferredRoute: .original, fastRefund: false,
                                             advanceCompensation: false, rule: .invalidCode, evidence: [],
                                             approvedAt: Date(), orderPaid: try orderPaid.map { try Money(minorUnits: $0) }),
                    amount: try Money(minorUnits: fen), outcome: .confirmed, verifiedAt: Date())
                return try TrustTests.refusal(of: refund) {
                    let e = Envelope(type: MessageType.refundVerified, payload: extra)
                    try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                                          routingKey: Topology.Key.refundVerified)
                }
            }

            /// What the channel actually paid for an order.
            /// The order ids for which the sandbox really injected `kind` (flaky, slow, refused, dup-callback).
            func faultsFired(_ kind: String) throws -> [String] {
                let r = try upstream.http("GET", "http://127.0.0.1:\(sandboxPort)/faults", token: nil, absolute: true)
                return (r.json["faults"] as? [String: [String]])?[kind] ?? []
            }

            func payments(order: String) throws -> [[String: Any]] {
                let r = try upstream.http("GET", "http://127.0.0.1:\(sandboxPort)/ledger", token: nil, absolute: true)
                return (r.json["payments"] as? [[String: Any]] ?? []).filter { $0["orderId"] as? String == order }
            }

            /// A delivered card code paid by `channel`, applied for as invalid (approved by rule, not verified).
            func refund(channel: PaymentChannel, order: String = TestStack.unique("pay"), paid: Int64 = 5_000,
                        reason: RefundReason = .invalidCode, extra: [String: Any] = [:]) throws -> (String, String) {
                var facts = IntakeAPITests.order(order, paid: paid, delivered: reason != .notDelivered)
                facts.paymentChannel = channel
                try IntakeAPITests.place(upstream, facts)
                let body = IntakeAPITests.applyBody(order, reason: reason,
                                                    evidence: reason == .notDelivered ? [] : [.orderNumber, .unusedProof],
                                                    extra: extra)
                let r = try upstream.http("POST", "/v1/refunds", token: IntakeAPITests.b1, body: upstream.json(body),
                                          headers: ["Idempotency-Key": UUID().uuidString])
                return (try #require(r.json["id"] as? String, "\(r.status)"), order)
            }

            func wait(_ id: String, _ state: String, seconds: Double = 20) throws -> [String: Any] {
                try upstream.waitForRefund(id, token: IntakeAPITests.b1, seconds: seconds) {
                    ($0["state"] as? String) == state
                }
            }
        }

        static func steps(_ r: [String: Any]) -> [[String: Any]] { r["timeline"] as? [[String: Any]] ?? [] }

        @Test("each channel's happy path, its arrival time, PROCESSING settled by polling, balance instantly")
        func happyPaths() throws {
            let s = try Stack()
            defer { s.stop() }
            for channel in [PaymentChannel.alipay, .wechat, .bankCard, .creditCard] {
                let (id, order) = try s.refund(channel: channel)
                let processing = try s.upstream.waitForRefund(id, token: IntakeAPITests.b1) {
                    PayoutTests.steps($0).contains { $0["step"] as? String == "processing" }
                }
                let step = try #require(Self.steps(processing).last { $0["step"] as? String == "processing" })
                let next = try #require((step["expectedNextBy"] as? String).flatMap(TestStack.date))
                let expected = ArrivalOracle.defaultArrival(channel.rawValue, paidOutAt: Date())
                #expect(abs(next.timeIntervalSince(expected)) < 120, "\(channel): arrival \(next) vs \(expected)")
                let credited = try s.wait(id, "credited")
                #expect(credited["state"] as? String == "credited", "\(channel)")
                #expect(Self.steps(credited).last?["actor"] as? String == "channel:\(channel.rawValue)")
                #expect(try s.payments(order: order).count == 1, "\(channel): paid exactly once")
            }
            // Undelivered, balance preferred: credited at once, nothing through a channel.
            let (id, order) = try s.refund(channel: .alipay, reason: .notDelivered, extra: ["preferredRoute": "balance"])
            let credited = try s.wait(id, "credited")
            #expect(credited["state"] as? String == "credited")
            #expect(Self.steps(credited).last?["actor"] as? String == "channel:balance")
            #expect(try s.payments(order: order).isEmpty)
        }

        @Test("a timeout after the channel applied it, a 503 before, and a kill -9 mid-call: each paid once")
        func faults() throws {
            let s = try Stack()
            defer { s.stop() }
            let (slow, slowOrder) = try s.refund(channel: .bankCard, order: TestStack.unique("slow"))
            let (flaky, flakyOrder) = try s.refund(channel: .alipay, order: TestStack.unique("flaky"))
            #expect(try s.wait(slow, "credited")["state"] as? String == "credited")
            #expect(try s.wait(flaky, "credited")["state"] as? String == "credited")
            #expect(try s.payments(order: slowOrder).count == 1)
            #expect(try s.payments(order: flakyOrder).count == 1)
            // The faults really fired (paid once would also hold if they had not).
            #expect(try s.faultsFired("slow").contains(slowOrder), "the slow answer was never injected")
            #expect(try s.faultsFired("flaky").contains(flakyOrder), "the 503 was never injected")

            // kill -9 while payout waits for the channel's (slow) answer, after the channel applied the refund.
            let (killed, killedOrder) = try s.refund(channel: .alipay, order: TestStack.unique("slow"))
            #expect(try TestStack.eventually(20) { try !s.payments(order: killedOrder).isEmpty })
            try s.restartPayoutAfterKill()
            #expect(try s.wait(killed, "credited")["state"] as? String == "credited")
            #expect(try s.payments(order: killedOrder).count == 1, "the restart reused the request number")
            #expect(try s.faultsFired("slow").contains(killedOrder), "payout was not waiting on a slow answer")
        }

        @Test("ABNORMAL (closed card) → buyer chooses the balance → credited once; an over-refund is refused")
        func fallbackAndOverRefund() throws {
            let s = try Stack()
            defer { s.stop() }
            let (id, order) = try s.refund(channel: .bankCard, order: TestStack.unique("closed-card"))
            let failed = try s.wait(id, "payout_failed")
            #expect(Self.steps(failed).last?["explanation"] as? String != nil)
            #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: IntakeAPITests.b1,
                                        body: s.upstream.json(["route": "original"])).status == 400)
            #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: IntakeAPITests.b1,
                                        body: s.upstream.json(["route": "balance"])).status == 200)
            let credited = try s.wait(id, "credited")
            #expect(credited["state"] as? String == "credited")
            #expect(Self.steps(credited).last?["actor"] as? String == "channel:balance")
            #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: IntakeAPITests.b1,
                                        body: s.upstream.json(["route": "balance"])).status == 409)
            #expect(try s.payments(order: order).isEmpty, "the closed card received nothing")
            let db = try TestStack.database()
            #expect(try db.query("SELECT count(*) AS n FROM payout.balance_ledger WHERE refund_id = $1::uuid", [id])[0]
                .int("n") == 1)

            // A second verified refund for the same line (as a faulty upstream might send): refused, not paid.
            let (paidId, paidOrder) = try s.refund(channel: .alipay)
            _ = try s.wait(paidId, "credited")
            let refusal = try s.verifiedByFaultyUpstream(order: paidOrder, line: "L1", fen: 5_000, linePaid: 5_000)
            #expect(refusal?.contains("over-refund refused") == true, "\(refusal ?? "no rejected_final")")
            #expect(try s.payments(order: paidOrder).count == 1)
        }
    }
}

extension Component.PayoutTests {
    @Test("a channel that refuses (4xx) fails the payout with its reason: the buyer chooses the balance, paid once")
    func refusedByChannel() throws {
        let s = try Stack()
        defer { s.stop() }
        let (id, order) = try s.refund(channel: .alipay, order: TestStack.unique("refused"))
        let failed = try s.wait(id, "payout_failed")
        #expect(try s.faultsFired("refused").contains(order), "the channel's refusal was never injected")
        #expect(Self.steps(failed).last?["explanation"] as? String ?? "" == "the alipay channel refused the refund: "
            + "choose your platform balance (instant) or another account")
        #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: Component.IntakeAPITests.b1,
                                    body: s.upstream.json(["route": "balance"])).status == 200)
        #expect(try s.wait(id, "credited")["state"] as? String == "credited")
        #expect(try s.payments(order: order).isEmpty, "the channel paid nothing")
        let db = try TestStack.database()
        defer { db.close() }
        #expect(try db.query("SELECT count(*) AS n FROM payout.balance_ledger WHERE refund_id = $1::uuid", [id])[0]
            .int("n") == 1)
        // Nobody called it again: one refused call, no retry loop.
        #expect(try db.query("SELECT attempts FROM payout.payouts WHERE refund_id = $1::uuid", [id])[0].int("attempts") == 1)
    }
}
