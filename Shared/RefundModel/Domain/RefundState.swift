/// The states a refund moves through, from application to money back (DOMAIN.md §3-5).
public enum RefundState: String, Sendable, Codable, CaseIterable {
    /// Applied; the system pre-check has not decided yet.
    case submitted
    /// The pre-check or a reviewer asked for the listed evidence; supplementing it restarts the pre-check.
    case needsEvidence = "needs_evidence"
    /// Waiting for a human reviewer (risk, high amount, ambiguous evidence).
    case manualReview = "manual_review"
    /// Rejected with a cited rule; the buyer may appeal once.
    case rejected
    /// Appealed with new evidence; a different reviewer decides.
    case appealed
    /// Rejected again after the appeal: final.
    case rejectedFinal = "rejected_final"
    /// Approved by rule, by a reviewer, or by the review SLA (advance compensation).
    case approved
    /// Waiting for the supplier's answer (or its deadline).
    case supplierVerification = "supplier_verification"
    /// The supplier says used while the buyer's evidence says otherwise: arbitration by operations.
    case disputed
    /// Money is on its way through a payment channel.
    case processing
    /// The channel failed (closed card, frozen account): waiting for the buyer's fallback choice.
    case payoutFailed = "payout_failed"
    /// Money arrived. Terminal.
    case credited
    /// Withdrawn by the buyer before money moved. Terminal.
    case withdrawn

    /// Every legal move, and nothing else. Anything not listed here is refused by `canMove(to:)`.
    public static let transitions: [RefundState: Set<RefundState>] = [
        .submitted: [.needsEvidence, .manualReview, .approved, .rejected, .withdrawn],
        .needsEvidence: [.submitted, .rejected, .withdrawn],
        .manualReview: [.approved, .rejected, .needsEvidence, .withdrawn],
        .rejected: [.appealed, .withdrawn],
        .appealed: [.approved, .rejectedFinal, .withdrawn],
        .rejectedFinal: [],
        // Payout refuses what its own record of the order does not allow (R-PAYOUT-CAP): final, the line is freed.
        .approved: [.supplierVerification, .processing, .rejectedFinal],
        // The supplier's log shows the item used and the buyer has nothing against it: refused for good.
        .supplierVerification: [.processing, .disputed, .rejectedFinal],
        .disputed: [.processing, .rejectedFinal],
        .processing: [.credited, .payoutFailed],
        .payoutFailed: [.processing],
        .credited: [],
        .withdrawn: [],
    ]

    /// How far along the way a step is: orders two steps of one refund stamped with the same instant (payout's
    /// balance route publishes `processing` and `credited` in one transaction). Projections order steps by
    /// (time, progress), never by arrival.
    public var progress: Int {
        switch self {
        case .submitted: return 0
        case .needsEvidence: return 1
        case .manualReview: return 2
        case .rejected: return 3
        case .appealed: return 4
        case .approved: return 5
        case .supplierVerification: return 6
        case .disputed: return 7
        case .processing: return 8
        case .payoutFailed: return 9
        case .rejectedFinal: return 10
        case .credited: return 11
        case .withdrawn: return 12
        }
    }

    public func canMove(to next: RefundState) -> Bool {
        Self.transitions[self, default: []].contains(next)
    }

    public var isTerminal: Bool { Self.transitions[self, default: []].isEmpty }

    /// Where a refund's path ends (no move out): credited, withdrawn, refused for good.
    public static let terminal: [RefundState] = allCases.filter(\.isTerminal)

    /// Where a refund waits for a human: the reviewer queue, and what counts as "in review" for an overdue
    /// follow-up. A reviewer's decision is accepted only here.
    public static let awaitingReviewer: [RefundState] = [.manualReview, .appealed, .disputed]

    /// Where a refund's amount is promised or paid: it counts against what its order and line can still give back.
    public static let committed: [RefundState] = [.approved, .supplierVerification, .disputed, .processing,
                                                  .payoutFailed, .credited]

    /// Checked move: returns the next state or throws naming both ends.
    public func moving(to next: RefundState) throws -> RefundState {
        guard canMove(to: next) else { throw IllegalTransition(from: self, to: next) }
        return next
    }
}

public struct IllegalTransition: Error, Equatable, Sendable, CustomStringConvertible {
    public let from: RefundState
    public let to: RefundState
    public init(from: RefundState, to: RefundState) {
        self.from = from
        self.to = to
    }

    public var description: String { "illegal refund transition \(from.rawValue) -> \(to.rawValue)" }
}
