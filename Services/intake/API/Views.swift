import Foundation
import RefundModel

/// A refund as the API shows it: where it stands, every step with its time, actor and reason, and what comes next.
struct RefundView: Encodable, Sendable {
    struct Step: Encodable, Sendable {
        var step: String
        var at: Date
        var actor: String
        var rule: String?
        /// The reason in the reader's language (`Accept-Language`: zh or en).
        var explanation: String?
        /// The same reason as data, for clients that word it themselves (`Phrasebook`'s codes).
        var explanationCode: String?
        var explanationParams: [String: String]?
        var amount: Money?
        var missingEvidence: [String]?
        var expectedNextBy: Date?
        /// `status`: reported by the stage that took the step; `action`: what the buyer or a reviewer did here.
        var kind: String
    }

    var id: String
    var orderId: String
    var lineId: String
    var state: String
    var reason: String
    var requestedAmount: Money?
    var amount: Money?
    var preferredRoute: String
    var appealed: Bool
    var createdAt: Date
    var expectedNextBy: Date?
    /// Since when the current step is late (a payout past its channel's arrival time).
    var overdueSince: Date?
    /// From the latest step that asked for evidence, while the refund waits for it.
    var missingEvidence: [String]?
    /// Why it was rejected, while it stands rejected.
    var rejectionReason: String?
    /// What payout reported (e.g. `possible_double_payment`): a reviewer ticket is open for each.
    var incidents: [String]?
    /// Everything the buyer sent, in the order it was added (DOMAIN.md §3: the reviewer sees it; so does the buyer).
    var evidence: [StoredEvidence]
    var timeline: [Step]

    init(_ r: RefundRecord, steps: [TimelineStep], locale: BuyerLocale = .en) {
        let currency = Currency(r.currency) ?? .cny
        func money(_ fen: Int64?) -> Money? { fen.flatMap { try? Money(minorUnits: $0, currency: currency) } }
        id = r.refundId.description
        orderId = r.orderId
        lineId = r.lineId
        state = r.state.rawValue
        reason = r.reason
        requestedAmount = money(r.requestedFen)
        amount = money(r.amountFen)
        preferredRoute = r.preferredRoute
        appealed = r.appealed
        createdAt = r.createdAt
        expectedNextBy = r.expectedNextBy
        overdueSince = r.overdueSince
        incidents = r.incidents.isEmpty ? nil : r.incidents
        evidence = StoredEvidence.decode(r.evidence)
        timeline = steps.map {
            Step(step: $0.step, at: $0.at, actor: $0.actor, rule: $0.rule,
                 explanation: $0.reason.map { Phrasebook.render($0, locale) } ?? $0.explanation,
                 explanationCode: $0.reason?.code, explanationParams: $0.reason?.params,
                 amount: money($0.amountFen),
                 missingEvidence: $0.missingEvidence.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
                 expectedNextBy: $0.expectedNextBy, kind: $0.kind)
        }
        let last = timeline.last { $0.step == r.state.rawValue }
        if r.state == .needsEvidence { missingEvidence = last?.missingEvidence ?? [] }
        if r.state == .rejected || r.state == .rejectedFinal { rejectionReason = last?.explanation }
    }
}

/// One item of a refund's evidence as intake keeps it: what the buyer sent (text verbatim: escaping is the
/// displaying page's job), when it was added and by whom. Items stored before the time was kept have none.
struct StoredEvidence: Codable, Sendable {
    var kind: EvidenceKind
    var reference: String?
    var text: String?
    var addedAt: Date?
    var addedBy: String?

    init(_ item: EvidenceItem, addedBy: String, at: Date) {
        kind = item.kind
        reference = item.reference
        text = item.text
        addedAt = MessageCoding.millis(at)
        self.addedBy = addedBy
    }

    /// What a buyer sent at `at`, as the evidence column keeps it.
    static func fromBuyer(_ items: [EvidenceItem], at: Date) -> [StoredEvidence] {
        items.map { StoredEvidence($0, addedBy: "buyer", at: at) }
    }

    /// The refund's stored evidence column (a JSON array), for the views.
    static func decode(_ json: String) -> [StoredEvidence] {
        (try? MessageCoding.decoder().decode([StoredEvidence].self, from: Data(json.utf8))) ?? []
    }
}

/// One case of the reviewer queue: the refund, the pre-check's findings, the buyer's refund history.
struct ReviewItem: Encodable, Sendable {
    var refund: RefundView
    var buyerId: String
    var overdue: Bool
    var findings: PreCheckDecision?
    var excludedReviewer: String?
    var buyerHistory: [String: Int]
}
