import Foundation
import RefundModel
import Testing

/// One application and what DOMAIN.md §1-3 says must come of it.
struct ReviewCase: Sendable, CustomTestStringConvertible {
    let name: String
    let line: OrderLineFacts
    /// Hours from now to the promised delivery (negative: in the past).
    var promisedInHours: Double = -1
    let reason: RefundReason
    var evidence: [EvidenceKind] = []
    var giftReturned = false
    let outcome: String
    let rule: RuleID
    let amountFen: Int64?
    var missing: [String]? = nil

    var testDescription: String { name }
}

private let now = Date()
private func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }
private func hoursAgo(_ h: Double) -> Date { now.addingTimeInterval(-h * 3600) }
private func line(_ kind: ProductKind, paid: Int64, list: Int64? = nil, delivered: Date? = nil,
                  configure: (inout OrderLineFacts) -> Void = { _ in }) -> OrderLineFacts {
    var l = OrderLineFacts(lineId: "L1", productKind: kind, supplierId: "sup-1", listPrice: fen(list ?? paid),
                           paid: fen(paid), deliveredAt: delivered)
    configure(&l)
    return l
}
private let cardProof: [EvidenceKind] = [.orderNumber, .activationFailureLog]
private let serviceProof: [EvidenceKind] = [.loginScreenshot, .orderNumber, .usageRecord]

/// At least one case per row of DOMAIN.md §1 and per pre-check outcome of §3.
let reviewTable: [ReviewCase] = [
    ReviewCase(name: "§1 not delivered, ¥499, good standing → fast refund",
               line: line(.cardCode, paid: 49_900), reason: .notDelivered,
               outcome: "approved", rule: .fastRefund, amountFen: 49_900),
    ReviewCase(name: "§1 not delivered, ¥800 → full refund by rule (not fast)",
               line: line(.cardCode, paid: 80_000), reason: .notDelivered,
               outcome: "approved", rule: .notDelivered, amountFen: 80_000),
    ReviewCase(name: "§1 not delivered claimed 25 h after promised delivery → out of window",
               line: line(.cardCode, paid: 1_000), promisedInHours: -25, reason: .notDelivered,
               outcome: "rejected", rule: .notDeliveredWindow, amountFen: nil),
    ReviewCase(name: "§1 card code cannot activate → full refund",
               line: line(.cardCode, paid: 3_000, delivered: hoursAgo(2)), reason: .invalidCode, evidence: cardProof,
               outcome: "approved", rule: .invalidCode, amountFen: 3_000),
    ReviewCase(name: "§1 defect reported 8 days after delivery → out of window",
               line: line(.cardCode, paid: 3_000, delivered: hoursAgo(8 * 24)), reason: .invalidCode,
               evidence: cardProof, outcome: "rejected", rule: .defectWindow, amountFen: nil),
    ReviewCase(name: "§1 not as described → full amount, judged by a reviewer",
               line: line(.membership, paid: 12_000, delivered: hoursAgo(5)), reason: .notAsDescribed,
               evidence: [.productPage, .differenceProof], outcome: "manual_review", rule: .notAsDescribed,
               amountFen: 12_000),
    ReviewCase(name: "§1 platform fault (double charge) → advance compensation",
               line: line(.topUp, paid: 5_000, delivered: hoursAgo(1)), reason: .platformFault,
               evidence: [.paymentStatement], outcome: "approved", rule: .platformFault, amountFen: 5_000),
    ReviewCase(name: "§1-2 platform fault with no evidence at all → advance compensation, nothing asked of the buyer",
               line: line(.topUp, paid: 5_000, delivered: hoursAgo(1)), reason: .platformFault,
               evidence: [], outcome: "approved", rule: .platformFault, amountFen: 5_000),
    ReviewCase(name: "§1 unused inside cooling-off, no-reason product → full refund",
               line: line(.licence, paid: 6_600, delivered: hoursAgo(3)) { $0.noReasonRefund = true },
               reason: .noReason, evidence: serviceProof, outcome: "approved", rule: .coolingOff, amountFen: 6_600),
    ReviewCase(name: "§1 no reason after the 24 h cooling-off → rejected",
               line: line(.licence, paid: 6_600, delivered: hoursAgo(30)) { $0.noReasonRefund = true },
               reason: .noReason, evidence: serviceProof, outcome: "rejected", rule: .coolingOffWindow, amountFen: nil),
    ReviewCase(name: "§1 partly used top-up, bought on promotion → pro-rata of the paid amount",
               line: line(.topUp, paid: 9_500, list: 10_000, delivered: hoursAgo(10)) {
                   $0.faceValue = fen(10_000)
                   $0.usedValue = fen(2_500)
               },
               reason: .partlyUsed, evidence: serviceProof, outcome: "approved", rule: .proRata, amountFen: 7_125),
    ReviewCase(name: "§1 service 40 % done → 60 % of paid",
               line: line(.service, paid: 20_000, delivered: hoursAgo(10)) { $0.completionBp = 4_000 },
               reason: .serviceIncomplete, evidence: serviceProof, outcome: "approved", rule: .serviceCompletion,
               amountFen: 12_000),
    ReviewCase(name: "§1 promotion + gift not returned → paid minus the gift's value",
               line: line(.cardCode, paid: 8_000, list: 10_000, delivered: hoursAgo(1)) { $0.giftValue = fen(500) },
               reason: .invalidCode, evidence: cardProof, outcome: "approved", rule: .invalidCode, amountFen: 7_500),
    ReviewCase(name: "§1 gift returned → nothing deducted",
               line: line(.cardCode, paid: 8_000, list: 10_000, delivered: hoursAgo(1)) { $0.giftValue = fen(500) },
               reason: .invalidCode, evidence: cardProof, giftReturned: true, outcome: "approved", rule: .invalidCode,
               amountFen: 8_000),
    ReviewCase(name: "§1 product with a 5 % refund fee → fee deducted",
               line: line(.licence, paid: 10_000, delivered: hoursAgo(1)) {
                   $0.noReasonRefund = true
                   $0.refundFeeBp = 500
               },
               reason: .noReason, evidence: serviceProof, outcome: "approved", rule: .coolingOff, amountFen: 9_500),
    ReviewCase(name: "§1 activated by the buyer → rejected",
               line: line(.cardCode, paid: 3_000, delivered: hoursAgo(2)) { $0.consumedAt = hoursAgo(1) },
               reason: .invalidCode, evidence: cardProof, outcome: "rejected", rule: .consumed, amountFen: nil),
    ReviewCase(name: "§1 wrong account topped up → buyer's own mistake",
               line: line(.topUp, paid: 3_000, delivered: hoursAgo(2)), reason: .wrongAccount,
               outcome: "rejected", rule: .buyerMistake, amountFen: nil),
    ReviewCase(name: "§1 account banned for own conduct → rejected",
               line: line(.membership, paid: 3_000, delivered: hoursAgo(2)), reason: .accountBanned,
               outcome: "rejected", rule: .buyerMistake, amountFen: nil),
    ReviewCase(name: "§1 physical, unopened, inside cooling-off → refund",
               line: line(.physical, paid: 15_000, delivered: hoursAgo(5)) {
                   $0.noReasonRefund = true
                   $0.opened = false
               },
               reason: .noReason, evidence: [.packagePhoto, .trackingNumber], outcome: "approved", rule: .coolingOff,
               amountFen: 15_000),
    ReviewCase(name: "§1 physical, opened → rejected",
               line: line(.physical, paid: 15_000, delivered: hoursAgo(5)) {
                   $0.noReasonRefund = true
                   $0.opened = true
               },
               reason: .noReason, evidence: [.packagePhoto, .trackingNumber], outcome: "rejected",
               rule: .physicalOpened, amountFen: nil),
    ReviewCase(name: "§1 physical, custom-made → rejected",
               line: line(.physical, paid: 15_000, delivered: hoursAgo(5)) { $0.customMade = true },
               reason: .invalidCode, evidence: [.packagePhoto, .trackingNumber], outcome: "rejected",
               rule: .physicalCustom, amountFen: nil),
    ReviewCase(name: "§2 card code with only the order number → the exact missing list",
               line: line(.cardCode, paid: 3_000, delivered: hoursAgo(2)), reason: .invalidCode,
               evidence: [.orderNumber], outcome: "needs_evidence", rule: .evidenceMissing, amountFen: nil,
               missing: ["activation_failure_log|unused_proof"]),
    ReviewCase(name: "§2 service with nothing → login screenshot, order number, usage record",
               line: line(.service, paid: 3_000, delivered: hoursAgo(2)) { $0.completionBp = 0 },
               reason: .serviceIncomplete, outcome: "needs_evidence", rule: .evidenceMissing, amountFen: nil,
               missing: ["login_screenshot", "order_number", "usage_record"]),
    ReviewCase(name: "§2 undelivered by the records' own account needs no evidence; delivered-but-disputed does",
               line: line(.cardCode, paid: 3_000, delivered: hoursAgo(1)), reason: .notDelivered,
               outcome: "needs_evidence", rule: .evidenceMissing, amountFen: nil,
               missing: ["order_page", "delivery_status"]),
    ReviewCase(name: "§3 high amount ¥12,000 → manual review",
               line: line(.cardCode, paid: 1_200_000), reason: .notDelivered,
               outcome: "manual_review", rule: .riskHighAmount, amountFen: 1_200_000),
]

extension Component {
    @Suite("Intake and auto-review (DOMAIN.md §1-3)")
    struct ReviewTests {
        static let buyer = "buyer-token-b1-test-credential"

        /// Places an order for `buyer` with one line and applies for it; returns the refund id.
        func apply(_ s: ServiceProcesses, _ c: ReviewCase, buyer: String = "b-1", token: String = buyer,
                   orderId: String = TestStack.unique("ord")) throws -> String {
            let promised = now.addingTimeInterval(c.promisedInHours * 3600)
            try Marketplace.place(OrderFacts(orderId: orderId, buyerId: buyer, paymentChannel: .alipay,
                                             placedAt: hoursAgo(400), paidAt: hoursAgo(400),
                                             promisedDeliveryAt: promised, lines: [c.line]))
            var body: [String: Any] = ["orderId": orderId, "lineId": c.line.lineId, "reason": c.reason.rawValue,
                                       "giftReturned": c.giftReturned]
            body["evidence"] = c.evidence.map { ["kind": $0.rawValue, "reference": "upload-\($0.rawValue)"] }
            var r = try s.http("POST", "/v1/refunds", token: token, body: s.json(body),
                               headers: ["Idempotency-Key": UUID().uuidString])
            // The order event may still be on its way to intake.
            if r.status == 404 {
                _ = try TestStack.eventually(10) {
                    r = try s.http("POST", "/v1/refunds", token: token, body: s.json(body),
                                   headers: ["Idempotency-Key": UUID().uuidString])
                    return r.status != 404
                }
            }
            try #require(r.status == 201, "apply: \(r.status) \(String(decoding: r.body, as: UTF8.self))")
            return try #require(r.json["id"] as? String)
        }

        func lastStep(_ refund: [String: Any]) -> [String: Any] {
            (refund["timeline"] as? [[String: Any]])?.last ?? [:]
        }

        @Test("every rule of the table: decision, cited rule and amount in fen (pure and through both services)")
        func table() throws {
            // One buyer applies for every case: the risk rules are switched off here and tested on their own.
            let s = try ServiceProcesses(["intake", "auto-review"],
                                         env: IntakeAPITests.relaxedRisk)
            defer { s.stop() }
            for c in reviewTable {
                // The pure rule first: fast to read when it fails.
                let facts = OrderFacts(orderId: "o", buyerId: "b", paymentChannel: .alipay, placedAt: hoursAgo(400),
                                       paidAt: hoursAgo(400),
                                       promisedDeliveryAt: now.addingTimeInterval(c.promisedInHours * 3600),
                                       lines: [c.line])
                let pure = try PreCheck.decide(PreCheck.Input(
                    order: facts, line: c.line, reason: c.reason, requested: nil, evidence: Set(c.evidence),
                    giftReturned: c.giftReturned, appliedAt: now, orderRefundable: c.line.paid,
                    history: BuyerHistory(applicationsInRiskWindow: 1, rejectionsInStandingWindow: 0)),
                    settings: PolicySettings())
                #expect(pure.outcome.rawValue == c.outcome, "\(c.name): pure outcome")
                #expect(pure.rule == c.rule, "\(c.name): pure rule")
                if let a = c.amountFen { #expect(pure.amount.minorUnits == a, "\(c.name): pure amount") }

                // Then the real path: marketplace event, HTTP apply, auto-review, status event, HTTP timeline.
                let token = Self.buyer
                let id = try apply(s, c, buyer: "b-1", token: token)
                let refund = try s.waitForRefund(id, token: token) { ($0["state"] as? String) != "submitted" }
                #expect(refund["state"] as? String == c.outcome, "\(c.name): state \(refund)")
                let step = lastStep(refund)
                #expect(step["rule"] as? String == c.rule.rawValue, "\(c.name): rule \(step)")
                if let a = c.amountFen {
                    #expect((refund["amount"] as? [String: Any])?["minorUnits"] as? Int == Int(a), "\(c.name): amount")
                }
                if let missing = c.missing {
                    #expect(refund["missingEvidence"] as? [String] == missing, "\(c.name): missing list")
                }
                if c.outcome == "rejected" {
                    #expect((refund["rejectionReason"] as? String)?.isEmpty == false, "\(c.name): reason shown")
                }
            }
        }
    }
}
