import Foundation
import RefundModel
import Testing

/// The pre-check's outcomes no component test asserted (issue 15 §2), each with its rule and amount written out by
/// hand: the pure function, no servers.
@Suite("Pre-check: the rules the component table leaves out")
struct PreCheckTests {
    static func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let hour: Double = 3600

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        var kind: ProductKind = .cardCode
        var paid: Int64 = 3_000
        var delivered: Bool = true
        var noReasonRefund = false
        let reason: RefundReason
        var evidence: Set<EvidenceKind> = [.orderNumber, .activationFailureLog]
        var requested: Int64? = nil
        var orderRefundable: Int64 = 3_000
        var applications = 1
        var rejections = 0
        let outcome: PreCheckDecision.Outcome
        let rule: RuleID
        let amount: Int64
        var amountRules: [RuleID] = []
        var missing: [String] = []
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "another refund already took part of the order: capped at what is left",
            reason: .invalidCode, orderRefundable: 1_200, outcome: .approved, rule: .invalidCode, amount: 1_200,
            amountRules: [.amountCap]),
        Row(name: "the order was refunded in full already: nothing left", reason: .invalidCode, orderRefundable: 0,
            outcome: .rejected, rule: .nothingRefundable, amount: 0),
        Row(name: "pro-rata asked for a card code: the reason is for top-ups", reason: .partlyUsed,
            outcome: .rejected, rule: .kindMismatch, amount: 0),
        Row(name: "completion asked for a licence: the reason is for services", kind: .licence,
            reason: .serviceIncomplete, evidence: [.loginScreenshot, .orderNumber, .usageRecord],
            outcome: .rejected, rule: .kindMismatch, amount: 0),
        Row(name: "no reason on a product without no-reason refunds", kind: .licence, reason: .noReason,
            evidence: [.loginScreenshot, .orderNumber, .usageRecord], outcome: .rejected, rule: .noReasonNotAllowed,
            amount: 0),
        Row(name: "two rejections in the standing window: a reviewer looks", reason: .invalidCode, rejections: 2,
            outcome: .manualReview, rule: .riskStanding, amount: 3_000),
        Row(name: "claims undelivered, the records show a delivery: a reviewer decides", reason: .notDelivered,
            evidence: [.orderPage, .deliveryStatus], outcome: .manualReview, rule: .deliveryDisputed, amount: 3_000),
        Row(name: "a fourth application in the risk window", reason: .invalidCode, applications: 4,
            outcome: .manualReview, rule: .riskFrequency, amount: 3_000),
        Row(name: "the buyer asks for less than the rule gives: the smaller amount", reason: .invalidCode,
            requested: 1_000, outcome: .approved, rule: .invalidCode, amount: 1_000),
        Row(name: "a card code with only the order number: the exact missing list", reason: .invalidCode,
            evidence: [.orderNumber], outcome: .needsEvidence, rule: .evidenceMissing, amount: 3_000,
            missing: ["activation_failure_log|unused_proof"]),
        Row(name: "a platform fault without any evidence: paid now, nothing asked (DOMAIN.md §2)",
            reason: .platformFault, evidence: [], outcome: .approved, rule: .platformFault, amount: 3_000),
        Row(name: "undelivered, good standing, ¥30: the fast refund", delivered: false, reason: .notDelivered,
            evidence: [], outcome: .approved, rule: .fastRefund, amount: 3_000),
    ]

    @Test("outcome, rule, amount and missing list", arguments: rows)
    func decide(_ row: Row) throws {
        let line = OrderLineFacts(lineId: "L1", productKind: row.kind, supplierId: "s", listPrice: Self.fen(row.paid),
                                  paid: Self.fen(row.paid), noReasonRefund: row.noReasonRefund,
                                  deliveredAt: row.delivered ? Self.t0 : nil)
        let order = OrderFacts(orderId: "o-1", buyerId: "b-1", paymentChannel: .alipay, placedAt: Self.t0,
                               paidAt: Self.t0, promisedDeliveryAt: Self.t0, lines: [line])
        let d = try PreCheck.decide(PreCheck.Input(
            order: order, line: line, reason: row.reason, requested: row.requested.map(Self.fen),
            evidence: row.evidence, giftReturned: false, appliedAt: Self.t0.addingTimeInterval(Self.hour),
            orderRefundable: Self.fen(row.orderRefundable),
            history: BuyerHistory(applicationsInRiskWindow: row.applications, rejectionsInStandingWindow: row.rejections)),
            settings: PolicySettings())
        #expect(d.outcome == row.outcome)
        #expect(d.rule == row.rule)
        #expect(d.amount.minorUnits == row.amount)
        #expect(d.amountRules == row.amountRules)
        #expect(d.missingEvidence == row.missing)
        #expect(d.advanceCompensation == (row.rule == .platformFault))
        #expect(d.fastRefund == (row.rule == .fastRefund))
    }
}
