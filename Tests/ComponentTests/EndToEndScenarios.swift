import Foundation
import RefundModel
import Testing

/// The nine refunds of issue 6, driven as a marketplace, buyers, reviewers and suppliers would.
extension World {
    private static let cardProof: [EvidenceKind] = [.orderNumber, .activationFailureLog]
    private static let serviceProof: [EvidenceKind] = [.loginScreenshot, .orderNumber, .usageRecord]
    /// Steps of a refund the supplier confirms and the original route pays at once.
    private static let verifiedPaid = ["approved", "supplier_verification", "supplier_verification", "processing",
                                       "credited"]

    func runAll() throws -> [Outcome] {
        for n in 1...9 { try profileBuyer(n) }
        // Orders as the marketplace reports them.
        try place(order(1), buyer: 1, paid: 30_000, delivered: false)
        try place(order(2), buyer: 2, paid: 8_800)
        try place(order(3), buyer: 3, kind: .topUp, paid: 9_500, list: 10_000, channel: .wechat) {
            $0.faceValue = World.fen(10_000)
            $0.usedValue = World.fen(2_500)
        }
        try place(order(4), buyer: 4, kind: .service, paid: 20_000) { $0.completionBp = 5_000 }
        for k in 0..<4 { try place(order(5, "R\(k)"), buyer: 5, paid: 2_000) }
        try place(order(6), buyer: 6, kind: .membership, paid: 12_000)
        try place(order(7), buyer: 7, paid: 6_600, supplier: "sup-silent")
        try place(order(8), buyer: 8, paid: 15_000, channel: .bankCard)
        try place(order(9, "closed-card"), buyer: 9, paid: 4_400, channel: .creditCard)

        // Applications.
        var ids: [Int: String] = [:]
        ids[1] = try apply(order(1), buyer: 1, reason: .notDelivered, evidence: [.orderPage, .deliveryStatus],
                           extra: ["preferredRoute": "balance"])
        ids[2] = try apply(order(2), buyer: 2, reason: .invalidCode, evidence: Self.cardProof)
        ids[3] = try apply(order(3), buyer: 3, reason: .partlyUsed, evidence: Self.serviceProof)
        ids[4] = try apply(order(4), buyer: 4, reason: .serviceIncomplete, evidence: Self.serviceProof)
        // Three applications this week, then the fourth.
        for k in 0..<3 {
            let earlier = try apply(order(5, "R\(k)"), buyer: 5, reason: .invalidCode, evidence: Self.cardProof)
            _ = try services.waitForRefund(earlier, token: token(5)) { $0["state"] as? String != "submitted" }
        }
        ids[5] = try apply(order(5, "R3"), buyer: 5, reason: .invalidCode, evidence: Self.cardProof)
        ids[6] = try apply(order(6), buyer: 6, reason: .notAsDescribed, evidence: [.productPage, .differenceProof])
        ids[7] = try apply(order(7), buyer: 7, reason: .invalidCode, evidence: Self.cardProof)
        ids[8] = try apply(order(8), buyer: 8, reason: .invalidCode, evidence: Self.cardProof)
        ids[9] = try apply(order(9, "closed-card"), buyer: 9, reason: .invalidCode, evidence: Self.cardProof)

        // Reviewers: the fourth application is approved in manual review.
        try wait(ids[5]!, buyer: 5, for: "manual_review")
        try decide(ids[5]!, reviewer: "reviewer-token-r1-test-credential", ["decision": "approve"])
        // Not as described: rejected by one reviewer, appealed with new evidence, approved by another.
        try wait(ids[6]!, buyer: 6, for: "manual_review")
        try decide(ids[6]!, reviewer: "reviewer-token-r1-test-credential",
                   ["decision": "reject", "reason": "the product page promised what was delivered"])
        try wait(ids[6]!, buyer: 6, for: "rejected")
        let appeal = try services.http("POST", "/v1/refunds/\(ids[6]!)/appeal", token: token(6), body: services.json([
            "evidence": [["kind": "difference_proof", "reference": "chat-log-with-seller"]],
            "note": "the seller admits the membership is 30 days, not lifetime"]))
        #expect(appeal.status == 200, "\(name): appeal \(appeal.status)")
        try wait(ids[6]!, buyer: 6, for: "appealed")
        try decide(ids[6]!, reviewer: "reviewer-token-r2-test-credential", ["decision": "approve"])
        // The closed card: the buyer falls back to the balance.
        try wait(ids[9]!, buyer: 9, for: "payout_failed")
        let fallback = try services.http("POST", "/v1/refunds/\(ids[9]!)/fallback", token: token(9),
                                         body: services.json(["route": "balance"]))
        #expect(fallback.status == 200, "\(name): fallback \(fallback.status)")

        // The bank card: its arrival by the profile's channel time, after the profile's batch window if any.
        // Worked out by hand from the profile's text (ArrivalOracle), not by the calculation under test.
        let bankDays = ArrivalOracle.entry(profile["ARRIVAL_TIMES"], "bank_card").flatMap { Int($0.dropLast()) } ?? 3
        let window = ArrivalOracle.entry(profile["BATCH_WINDOWS"], "bank_card")?.split(separator: ":").compactMap { Int($0) }
        let batched = window != nil
        let sentAt = window.map { ArrivalOracle.next(hour: $0[0], minute: $0[1], after: Date()) } ?? Date()
        let bankExpected = ArrivalOracle.workingDays(bankDays, after: sentAt)

        let expectations: [(Int, String, Expected)] = [
            (1, order(1), Expected(name: "fast refund to balance", state: "credited", amountFen: 30_000,
                                   steps: ["approved", "processing", "credited"]) { o in
                #expect(o.timeline.first { $0["step"] as? String == "approved" }?["rule"] as? String == RuleID.fastRefund.rawValue)
                #expect(o.timeline.last?["actor"] as? String == "channel:balance")
            }),
            (2, order(2), Expected(name: "supplier confirms, Alipay", state: "credited", amountFen: 8_800,
                                   steps: Self.verifiedPaid) { o in
                #expect(o.timeline.last?["actor"] as? String == "channel:alipay")
            }),
            (3, order(3), Expected(name: "top-up pro-rata", state: "credited", amountFen: 7_125, steps: Self.verifiedPaid) { o in
                #expect(o.timeline.first { $0["step"] as? String == "approved" }?["rule"] as? String == RuleID.proRata.rawValue)
                #expect(o.timeline.last?["actor"] as? String == "channel:wechat")
            }),
            (4, order(4), Expected(name: "service half done", state: "credited", amountFen: 10_000,
                                   steps: Self.verifiedPaid)),
            (5, order(5, "R3"), Expected(name: "fourth application in a week", state: "credited", amountFen: 2_000,
                                         steps: ["manual_review"] + Self.verifiedPaid) { o in
                #expect(o.timeline.first { $0["step"] as? String == "manual_review" }?["rule"] as? String
                    == RuleID.riskFrequency.rawValue)
                #expect(o.timeline.contains { $0["step"] as? String == "approved" && $0["actor"] as? String == "reviewer:r-1" })
            }),
            (6, order(6), Expected(name: "rejected, appealed, approved by another reviewer", state: "credited",
                                   amountFen: 12_000,
                                   steps: ["manual_review", "rejected", "appealed"] + Self.verifiedPaid) { o in
                #expect(o.timeline.contains { $0["step"] as? String == "rejected" && $0["actor"] as? String == "reviewer:r-1" })
                #expect(o.timeline.contains { $0["step"] as? String == "approved" && $0["actor"] as? String == "reviewer:r-2" })
            }),
            (7, order(7), Expected(name: "supplier never answers", state: "credited", amountFen: 6_600,
                                   steps: Self.verifiedPaid) { o in
                let answered = o.timeline.filter { $0["step"] as? String == "supplier_verification" }.last
                #expect(answered?["actor"] as? String == "system", "decided by the deadline, not by a supplier")
            }),
            (8, order(8), Expected(name: "bank card, working days", state: batched ? "processing" : "credited",
                                   amountFen: 15_000,
                                   steps: batched ? Array(Self.verifiedPaid.dropLast()) : Self.verifiedPaid) { o in
                let step = o.timeline.last { $0["step"] as? String == "processing" }
                let next = (step?["expectedNextBy"] as? String).flatMap(TestStack.date)
                #expect(next.map { abs($0.timeIntervalSince(bankExpected)) < 300 } == true,
                        "arrival \(String(describing: next)) vs \(bankExpected)")
                if batched { #expect((step?["explanation"] as? String)?.contains("daily batch") == true) }
            }),
            (9, order(9, "closed-card"), Expected(name: "closed card, fallback to balance", state: "credited",
                                                  amountFen: 4_400,
                                                  steps: ["approved", "supplier_verification", "supplier_verification",
                                                          "processing", "payout_failed", "processing", "credited"])),
        ]
        // Final states, then the notifications they caused (sent by the sender threads shortly after).
        for (n, _, e) in expectations {
            try wait(ids[n]!, buyer: n, for: e.state, seconds: 40)
        }
        _ = TestStack.eventually(15) {
            expectations.allSatisfy { n, order, e in
                (try? outcome(e, id: ids[n]!, order: order, buyer: n)).map {
                    $0.smsCount >= e.notified.count && $0.mailCount >= e.notified.count
                } ?? false
            }
        }
        Thread.sleep(forTimeInterval: 1)  // anything extra would show up now
        return try expectations.map { n, order, e in try outcome(e, id: ids[n]!, order: order, buyer: n) }
    }
}
