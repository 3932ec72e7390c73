import AMQP
import ChannelSigning
import Foundation
import RefundModel
import Testing

/// Payout's channel-facing behaviour beyond calling: signed callbacks, daily batches, overdue payouts, a fallback to
/// a designated account, and the per-order cap (DOMAIN.md §5-6).
extension Component.PayoutTests {
    /// Posts a callback as a channel would, signed with `secret`; returns the HTTP status.
    static func callback(_ s: Stack, channel: String = "wechat", body: [String: Any], secret: String = Stack.callbackSecret,
                         timestamp: Int64 = Int64(Date().timeIntervalSince1970), nonce: String = UUID().uuidString)
        throws -> Int {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let signature = CallbackSignature.sign(secret: secret, timestamp: timestamp, nonce: nonce, body: [UInt8](data))
        return try s.upstream.http(
            "POST", "http://127.0.0.1:\(s.callbackPort)/v1/channel-callbacks/\(channel)", token: nil, body: data,
            headers: [CallbackSignature.timestampHeader: String(timestamp), CallbackSignature.nonceHeader: nonce,
                      CallbackSignature.signatureHeader: signature], absolute: true).status
    }

    static func requestNo(_ refund: String) throws -> String {
        try TestStack.database().query("SELECT request_no::text AS n FROM payout.payouts WHERE refund_id = $1::uuid",
                                       [refund])[0].string("n")
    }

    func processing(_ s: Stack, _ id: String) throws -> [String: Any] {
        try s.upstream.waitForRefund(id, token: Component.IntakeAPITests.b1) {
            Self.steps($0).contains { $0["step"] as? String == "processing" }
        }
    }

    @Test("PROCESSING settled by the channel's signed callback; duplicates change nothing; forged, stale, mismatched and replayed callbacks are refused")
    func callbacks() throws {
        // Polls capped at a minute apart: within this test only a callback can settle a refund.
        let s = try Stack(payout: ["PAYOUT_POLL_SECONDS": "600"], sandbox: ["SANDBOX_PROCESSING_SECONDS": "4"])
        defer { s.stop() }
        let (dup, dupOrder) = try s.refund(channel: .wechat, order: TestStack.unique("dup-callback"))
        let (other, otherOrder) = try s.refund(channel: .wechat)
        _ = try processing(s, other)
        #expect(try TestStack.eventually(10) { try !s.payments(order: otherOrder).isEmpty }, "the channel took it")
        let no = try Self.requestNo(other)
        let success: [String: Any] = ["outRequestNo": no, "status": "SUCCESS", "amountFen": 5_000]
        #expect(try Self.callback(s, body: success, secret: "forged-secret-0000000000") == 401, "forged")
        #expect(try Self.callback(s, body: success, timestamp: Int64(Date().timeIntervalSince1970) - 3_600) == 401,
                "stale")
        #expect(try Self.callback(s, body: success.merging(["amountFen": 9_999]) { $1 }) == 409, "wrong amount")
        #expect(try Self.callback(s, channel: "alipay", body: success) == 409, "wrong channel")
        #expect(try Self.callback(s, body: success.merging(["outRequestNo": UUID().uuidString]) { $1 }) == 404)
        #expect(try s.upstream.http("GET", "/v1/refunds/\(other)", token: Component.IntakeAPITests.b1).json["state"] as? String
            == "processing", "nothing above moved it")

        // The sandbox's own callbacks settle both; the dup-callback order's result arrives twice.
        #expect(try s.wait(other, "credited")["state"] as? String == "credited")
        let credited = try s.wait(dup, "credited")
        #expect(credited["state"] as? String == "credited")
        #expect(try s.faultsFired("dup-callback").contains(dupOrder), "the duplicate callback was never injected")
        #expect(Self.steps(credited).filter { $0["step"] as? String == "credited" }.count == 1)
        let dupNo = try Self.requestNo(dup)
        #expect(try TestStack.eventually(10) {
            let r = try s.upstream.http("GET", "http://127.0.0.1:\(s.sandboxPort)/callbacks", token: nil, absolute: true)
            let entry = (r.json["callbacks"] as? [[String: Any]] ?? []).first { $0["outRequestNo"] as? String == dupNo }
            return entry?["delivered"] as? Int == 2
        })
        let outcomes = try TestStack.database().query(
            "SELECT outcome FROM payout.channel_callbacks WHERE request_no = $1::uuid ORDER BY received_at", [dupNo])
            .map { try $0.string("outcome") }
        #expect(outcomes == ["applied", "duplicate"])

        // A replay: the same signed callback (same nonce) twice. The first is a harmless duplicate, the second refused.
        let nonce = UUID().uuidString
        #expect(try Self.callback(s, body: success, nonce: nonce) == 200)
        #expect(try Self.callback(s, body: success, nonce: nonce) == 401, "replayed nonce")
        let after = try s.upstream.http("GET", "/v1/refunds/\(other)", token: Component.IntakeAPITests.b1).json
        #expect(Self.steps(after).filter { $0["step"] as? String == "credited" }.count == 1)
        #expect(try s.payments(order: otherOrder).count == 1)
        #expect(try s.payments(order: dupOrder).count == 1)
    }

    @Test("a batched channel waits for its daily window; a payout past its arrival time is marked overdue and the buyer told why")
    func batchAndOverdue() throws {
        // Bank cards in a daily batch at 03:00 platform time: never "now" during a test run unless it is 03:00.
        let s = try Stack(payout: ["BATCH_WINDOWS": "bank_card=03:00"])
        defer { s.stop() }
        let (id, order) = try s.refund(channel: .bankCard, order: TestStack.unique("stuck"))
        let step = try #require(Self.steps(try processing(s, id)).last { $0["step"] as? String == "processing" })
        #expect((step["explanation"] as? String)?.contains("daily batch at") == true)
        let db = try TestStack.database()
        let sendAt = try db.query("SELECT send_at FROM payout.payouts WHERE refund_id = $1::uuid", [id])[0].date("send_at")
        let batch = ArrivalOracle.next(hour: 3, minute: 0, after: Date())
        #expect(abs(sendAt.timeIntervalSince(batch)) < 1 && sendAt > Date(), "the next 03:00, not now")
        Thread.sleep(forTimeInterval: 1)
        #expect(try s.payments(order: order).isEmpty, "nothing is sent before the batch")

        // The batch time comes (moved to now): the channel is called, answers PROCESSING, and stays there.
        try db.query("UPDATE payout.payouts SET next_call_at = now() WHERE refund_id = $1::uuid", [id])
        #expect(try TestStack.eventually(10) { try s.payments(order: order).count == 1 })
        // The expected arrival passes (moved to now): overdue, with the reason, visible in intake.
        try db.query("UPDATE payout.deadlines SET due_at = now() WHERE kind = 'payout-overdue' AND key = $1", [id])
        let late = try s.upstream.waitForRefund(id, token: Component.IntakeAPITests.b1) { $0["overdueSince"] != nil }
        #expect(late["state"] as? String == "processing")
        #expect(late["overdueSince"] != nil)
        #expect((Self.steps(late).last?["explanation"] as? String)?.hasPrefix("late: bank clearing") == true)
        #expect(try db.query("SELECT overdue_at IS NOT NULL AS o FROM payout.payouts WHERE refund_id = $1::uuid",
                             [id])[0].bool("o"))
        // Past its expected arrival: the buyer may open a follow-up ticket.
        let ticket = try s.upstream.http("POST", "/v1/refunds/\(id)/follow-up", token: Component.IntakeAPITests.b1,
                                         body: s.upstream.json(["note": "where is my money?"]))
        #expect(ticket.status == 201 && ticket.json["reason"] as? String == "past its expected arrival")
        #expect(try s.payments(order: order).count == 1)
    }

    @Test("ABNORMAL → the buyer designates another account → paid once to it under a new request number")
    func fallbackToAccount() throws {
        let s = try Stack()
        defer { s.stop() }
        let (id, order) = try s.refund(channel: .creditCard, order: TestStack.unique("closed-card"))
        _ = try s.wait(id, "payout_failed")
        let failedNo = try Self.requestNo(id)
        for bad in [["channel": "bank_card", "number": "12ab"], ["channel": "wechat", "number": "6222020200112233445"],
                    ["channel": "bank_card"]] {
            let r = try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: Component.IntakeAPITests.b1,
                                        body: s.upstream.json(["route": "account", "account": bad]))
            #expect(r.status == 400, "\(bad)")
        }
        let card = "6222020200112233445"
        let chosen = try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: Component.IntakeAPITests.b1,
                                         body: s.upstream.json(["route": "account",
                                                                "account": ["channel": "bank_card", "number": card]]))
        #expect(chosen.status == 200)
        let credited = try s.wait(id, "credited")
        #expect(Self.steps(credited).last?["actor"] as? String == "channel:bank_card")
        let text = String(decoding: try JSONSerialization.data(withJSONObject: credited), as: UTF8.self)
        #expect(text.contains("****3445") && !text.contains(card), "the timeline shows only the last four digits")
        let paid = try s.payments(order: order)
        #expect(paid.count == 1)
        #expect(paid.first?["account"] as? String == card && paid.first?["channel"] as? String == "bank_card")
        #expect(paid.first?["outRequestNo"] as? String != failedNo, "a new request number for the new account")
        #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: Component.IntakeAPITests.b1,
                                    body: s.upstream.json(["route": "balance"])).status == 409)
    }

    @Test("a channel's SUCCESS for a request number a fallback superseded is an incident: flagged, ticketed, counted, once; a SUCCESS before any fallback credits the refund")
    func lateSuccessIsAnIncident() throws {
        let s = try Stack()
        defer { s.stop() }
        let db = try TestStack.database()
        defer { db.close() }
        let (id, _) = try s.refund(channel: .creditCard, order: TestStack.unique("closed-card"))
        _ = try s.wait(id, "payout_failed")
        let failedNo = try Self.requestNo(id)
        let fen = try db.query("SELECT amount_fen FROM payout.payouts WHERE refund_id = $1::uuid", [id])[0]
            .int64("amount_fen")
        #expect(try s.upstream.http("POST", "/v1/refunds/\(id)/fallback", token: Component.IntakeAPITests.b1,
                                    body: s.upstream.json(["route": "balance"])).status == 200)
        _ = try s.wait(id, "credited")
        let before = try #require(s.payout.metrics("payout"))
        #expect(before.value("refunds_incidents_total") == 0)

        // The channel now says it paid the old request number after all: the buyer may have been paid twice.
        let late: [String: Any] = ["outRequestNo": failedNo, "status": "SUCCESS", "amountFen": fen]
        #expect(try Self.callback(s, channel: "credit_card", body: late) == 200)
        #expect(try Self.callback(s, channel: "credit_card", body: late) == 200, "a retried callback is answered")
        #expect(try Self.callback(s, channel: "credit_card", body: late.merging(["amountFen": fen + 1]) { $1 }) == 409)
        #expect(try TestStack.eventually(20) {
            let view = try s.upstream.http("GET", "/v1/refunds/\(id)", token: Component.IntakeAPITests.b1).json
            return view["incidents"] as? [String] == ["possible_double_payment"]
        })
        let tickets = try db.query("SELECT reason FROM intake.tickets WHERE refund_id = $1::uuid AND state = 'open'",
                                   [id])
        #expect(tickets.count == 1)
        #expect(try tickets.first?.string("reason").contains("possible double payment") == true)
        #expect(try db.query("SELECT 1 AS one FROM payout.incidents WHERE refund_id = $1::uuid", [id]).count == 1)
        #expect(s.payout.metrics("payout")?.value("refunds_incidents_total", ["kind": "possible_double_payment"]) == 1)
        #expect(try s.upstream.http("GET", "/v1/refunds/\(id)", token: Component.IntakeAPITests.b1).json["state"]
                as? String == "credited", "the refund itself stays credited")

        // The same channel answer before the buyer chose another way: the money moved, so the refund is credited
        // and no fallback can pay it again.
        let (other, _) = try s.refund(channel: .creditCard, order: TestStack.unique("closed-card"))
        _ = try s.wait(other, "payout_failed")
        let otherNo = try Self.requestNo(other)
        let otherFen = try db.query("SELECT amount_fen FROM payout.payouts WHERE refund_id = $1::uuid", [other])[0]
            .int64("amount_fen")
        #expect(try Self.callback(s, channel: "credit_card",
                                  body: ["outRequestNo": otherNo, "status": "SUCCESS", "amountFen": otherFen]) == 200)
        let credited = try s.wait(other, "credited")
        #expect(Self.steps(credited).last?["actor"] as? String == "channel:credit_card")
        #expect(try s.upstream.http("POST", "/v1/refunds/\(other)/fallback", token: Component.IntakeAPITests.b1,
                                    body: s.upstream.json(["route": "balance"])).status == 409)
        #expect(try db.query("SELECT 1 AS one FROM payout.balance_ledger WHERE refund_id = $1::uuid", [other]).isEmpty)
    }

    @Test("refundctl reconcile: the channel's statement, payout's records and the balance ledger agree; a payment planted in the statement and one under a superseded number are reported")
    func reconcile() throws {
        // The statement's window starts now: earlier tests' payouts (same schema) are outside it, and any of theirs
        // this test's payout instance pays meanwhile is paid by this sandbox, consistently.
        let since = ISO8601DateFormatter().string(from: Date())
        let s = try Stack()
        defer { s.stop() }
        let (paid, _) = try s.refund(channel: .alipay)
        let (fellBack, _) = try s.refund(channel: .creditCard, order: TestStack.unique("closed-card"))
        _ = try s.wait(fellBack, "payout_failed")
        let supersededNo = try Self.requestNo(fellBack)
        #expect(try s.upstream.http("POST", "/v1/refunds/\(fellBack)/fallback", token: Component.IntakeAPITests.b1,
                                    body: s.upstream.json(["route": "balance"])).status == 200)
        _ = try s.wait(paid, "credited")
        _ = try s.wait(fellBack, "credited")
        let ledger = "http://127.0.0.1:\(s.sandboxPort)/ledger"
        func reconcile() throws -> (status: Int32, kinds: [String], output: String) {
            let r = try TestStack.run(TestStack.binPath + "/refundctl",
                                      ["reconcile", "--channel-ledger", ledger, "--since", since, "--json"],
                                      env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
            let report = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
            let kinds = (report?["differences"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            return (r.status, kinds.sorted(), r.output)
        }
        let clean = try reconcile()
        #expect(clean.status == 0 && clean.kinds.isEmpty, "\(clean.output)")
        let counts = try JSONSerialization.jsonObject(with: Data(clean.output.utf8)) as? [String: Any]
        #expect((counts?["ledgerPayments"] as? Int ?? 0) >= 1 && (counts?["balanceCredits"] as? Int ?? 0) >= 1,
                "\(clean.output)")

        func plant(_ no: String, _ channel: String, _ fen: Int64) throws {
            let body = try JSONSerialization.data(withJSONObject: [
                "outRequestNo": no, "orderId": "planted", "channel": channel, "amountFen": fen])
            #expect(try s.upstream.http("POST", ledger, token: nil, body: body, absolute: true).status == 200)
        }
        let stranger = UUID().uuidString.lowercased()
        try plant(stranger, "alipay", 1_234)
        let fen = try TestStack.database().query("SELECT amount_fen FROM payout.payouts WHERE refund_id = $1::uuid",
                                                 [fellBack])[0].int64("amount_fen")
        try plant(supersededNo, "credit_card", fen)
        let found = try reconcile()
        #expect(found.status == 5, "\(found.output)")
        #expect(found.kinds == ["possible_double_payment", "unknown_payment"], "\(found.output)")
        #expect(found.output.contains(stranger) && found.output.contains(fellBack), "\(found.output)")
        let human = try TestStack.run(TestStack.binPath + "/refundctl",
                                      ["reconcile", "--channel-ledger", ledger, "--since", since],
                                      env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
        #expect(human.status == 5 && human.output.contains("2 difference(s)") && human.output.contains(stranger),
                "\(human.output)")
    }

    @Test("the caps are payout's own record of the order, not what the checked message claims")
    func orderCap() throws {
        let s = try Stack()
        defer { s.stop() }
        let (id, order) = try s.refund(channel: .alipay, paid: 5_000)
        _ = try s.wait(id, "credited")
        // A faulty upstream approves a line the order does not have, claiming it paid 3,000 of an order of 6,000:
        // payout knows the order (from the marketplace's order.placed) has one line of 5,000, already refunded.
        let refusal = try s.verifiedByFaultyUpstream(order: order, line: "L2", fen: 3_000, linePaid: 3_000, orderPaid: 6_000)
        #expect(refusal?.contains("the order has no line L2") == true, "\(refusal ?? "no rejected_final")")
        #expect(try s.payments(order: order).count == 1)
    }
}
