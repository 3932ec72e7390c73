import Foundation
import Logging
import RefundModel
import StageRuntime

/// Auto-review's logic: runs the pre-check on applications and supplemented evidence, applies reviewer decisions and
/// appeals, and pays by advance compensation when the review SLA runs out. Every visible step is published as
/// `refund.status.*`; every approval goes on as `refund.approved`.
struct ReviewHandler: StageHandler {
    static let slaTimer = "review-sla"
    let settings: PolicySettings

    var routes: MessageRoutes {
        MessageRoutes()
            .on(MessageType.refundApplied, RefundApplied.self) { a, _, tx in
                let repo = CaseRepository(db: tx.db)
                guard try repo.insert(a) else { return }  // the same refund applied twice: the first one stands
                guard let c = try repo.load(a.refundId) else { return }
                try preCheck(c, repo: repo, tx: tx, now: a.appliedAt)
            }
            .on(MessageType.evidenceAdded, BuyerAction.self) { action, _, tx in
                try evidenceAdded(action, repo: CaseRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.refundAppealed, BuyerAction.self) { action, _, tx in
                try appealed(action, repo: CaseRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.refundWithdrawn, BuyerAction.self) { action, _, tx in
                try withdrawn(action, repo: CaseRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.reviewerDecided, ReviewerDecision.self) { d, _, tx in
                try reviewerDecided(d, repo: CaseRepository(db: tx.db), tx: tx)
            }
    }

    private func withdrawn(_ action: BuyerAction, repo: CaseRepository, tx: StageTransaction) throws {
        guard var c = try repo.load(action.refundId), c.state.canMove(to: .withdrawn) else {
            return logIgnored("withdrawal", tx)
        }
        let from = c.state
        c.state = .withdrawn
        guard try repo.move(c, from: from, to: .withdrawn) else { return }
        try tx.cancelDeadline(kind: Self.slaTimer, key: c.refundId.description)
        try tx.publishStatus(status(c, .withdrawn, at: action.at, actor: "buyer", because: .init(.withdrawnByBuyer)))
    }

    /// The review SLA ran out: an eligible case still waiting for a reviewer is paid by the platform now.
    func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        guard deadline.kind == Self.slaTimer, let id = RefundID(deadline.key) else { return }
        let repo = CaseRepository(db: tx.db)
        guard var c = try repo.load(id), c.state == .manualReview, var decision = c.decision else { return }
        decision.outcome = .approved
        decision.rule = .slaAdvanceCompensation
        decision.advanceCompensation = true
        decision.reason = .init(.reviewSLABreached)
        c.decision = decision
        c.state = .approved
        guard try repo.move(c, from: .manualReview, to: .approved) else { return }
        try approve(c, decision: decision, actor: "system", at: Date(), tx: tx)
    }

    // MARK: - Steps

    private func preCheck(_ c: ReviewCase, repo: CaseRepository, tx: StageTransaction, now: Date) throws {
        var c = c
        let a = c.application
        guard let line = a.order.line(a.lineId) else { throw StageError.permanent("line not in the order facts") }
        let history = try repo.history(buyerId: c.buyerId, at: a.appliedAt, settings: settings)
        let decision = try PreCheck.decide(PreCheck.Input(
            order: a.order, line: line, reason: a.reason, requested: a.requested, evidence: Set(a.evidence.map(\.kind)),
            giftReturned: a.giftReturned, appliedAt: a.appliedAt, orderRefundable: a.orderRefundable,
            history: history), settings: settings)
        c.decision = decision
        let next: RefundState = switch decision.outcome {
        case .approved: .approved
        case .rejected: .rejected
        case .needsEvidence: .needsEvidence
        case .manualReview: .manualReview
        }
        let from = c.state
        c.state = next
        if next == .rejected { c.rejectedBy = "system" }
        guard try repo.move(c, from: from, to: next) else { return }
        tx.logger.info("pre-check decided", metadata: ["outcome": "\(decision.outcome.rawValue)",
                                                 "rule": "\(decision.rule.rawValue)",
                                                 "amount.fen": "\(decision.amount.minorUnits)"])
        switch decision.outcome {
        case .approved:
            try approve(c, decision: decision, actor: "system", at: now, tx: tx)
        case .rejected:
            try tx.publishStatus(status(c, .rejected, at: now, actor: "system", rule: decision.rule,
                                        because: decision.because))
        case .needsEvidence:
            try tx.publishStatus(status(c, .needsEvidence, at: now, actor: "system", rule: decision.rule,
                                        because: decision.because, missing: decision.missingEvidence))
        case .manualReview:
            // The application is complete from here on: the SLA clock starts (and restarts on new evidence).
            let due = Date().addingTimeInterval(decision.reviewSLASeconds ?? settings.reviewSLA)
            try tx.schedule(kind: Self.slaTimer, key: c.refundId.description, dueAt: due)
            var e = status(c, .manualReview, at: now, actor: "system", rule: decision.rule,
                           because: decision.because, expectedNextBy: due)
            e.findings = decision
            try tx.publishStatus(e)
        }
    }

    private func evidenceAdded(_ action: BuyerAction, repo: CaseRepository, tx: StageTransaction) throws {
        guard var c = try repo.load(action.refundId), c.buyerId == action.buyerId else {
            return logIgnored("evidence", tx)
        }
        c.application.evidence += action.evidence
        switch c.state {
        case .needsEvidence, .submitted:
            // Supplemented: back to the pre-check with everything the buyer has given so far.
            let from = c.state
            if from != .submitted {
                c.state = .submitted
                guard try repo.move(c, from: from, to: .submitted) else { return }
            }
            try tx.publishStatus(status(c, .submitted, at: action.at, actor: "buyer",
                                        because: .init(.evidenceSupplemented)))
            try preCheck(c, repo: repo, tx: tx, now: action.at)
        case .manualReview:
            // Waiting for a reviewer: keep waiting, with the new evidence and a restarted SLA clock.
            guard try repo.move(c, from: .manualReview, to: .manualReview, allowSame: true) else { return }
            let due = Date().addingTimeInterval(c.decision?.reviewSLASeconds ?? settings.reviewSLA)
            try tx.schedule(kind: Self.slaTimer, key: c.refundId.description, dueAt: due)
            var e = status(c, .manualReview, at: action.at, actor: "buyer", because: .init(.evidenceSupplemented),
                           expectedNextBy: due)
            e.findings = c.decision
            try tx.publishStatus(e)
        default:
            logIgnored("evidence in state \(c.state.rawValue)", tx)
        }
    }

    private func appealed(_ action: BuyerAction, repo: CaseRepository, tx: StageTransaction) throws {
        guard var c = try repo.load(action.refundId), c.buyerId == action.buyerId, c.state == .rejected else {
            return logIgnored("appeal", tx)
        }
        c.application.evidence += action.evidence
        c.state = .appealed
        guard try repo.move(c, from: .rejected, to: .appealed) else { return }
        var e = status(c, .appealed, at: action.at, actor: "buyer", rule: .appeal,
                       because: .init(.appealedToAnotherReviewer),
                       expectedNextBy: Date().addingTimeInterval(settings.reviewSLA))
        e.findings = c.decision
        e.excludedReviewer = c.rejectedBy
        try tx.publishStatus(e)
    }

    private func reviewerDecided(_ d: ReviewerDecision, repo: CaseRepository, tx: StageTransaction) throws {
        guard var c = try repo.load(d.refundId), c.state == .manualReview || c.state == .appealed else {
            return logIgnored("reviewer decision", tx)
        }
        if c.state == .appealed, c.rejectedBy == d.reviewerId {
            return logIgnored("appeal decided by the reviewer who rejected it", tx)
        }
        let from = c.state
        let actor = "reviewer:\(d.reviewerId)"
        switch d.kind {
        case .approve:
            var decision = c.decision ?? PreCheckDecision(
                outcome: .approved, rule: .reviewerDecision, amount: c.application.orderRefundable, amountRules: [],
                missingEvidence: [], advanceCompensation: false, fastRefund: false, reviewSLASeconds: nil,
                because: .init(.approvedByReviewer))
            // A reviewer may approve less than computed, never more than the order can give back.
            let cap = c.application.orderRefundable
            var amount = d.amount ?? (decision.amount.isZero ? cap : decision.amount)
            if cap < amount { amount = cap }
            decision.outcome = .approved
            decision.rule = .reviewerDecision
            decision.amount = amount
            decision.reason = .init(from == .appealed ? .appealApproved : .approvedByReviewer)
            c.decision = decision
            c.state = .approved
            guard try repo.move(c, from: from, to: .approved) else { return }
            try tx.cancelDeadline(kind: Self.slaTimer, key: c.refundId.description)
            try approve(c, decision: decision, actor: actor, at: d.at, tx: tx)
        case .reject:
            let next: RefundState = from == .appealed ? .rejectedFinal : .rejected
            c.state = next
            c.rejectedBy = d.reviewerId
            guard try repo.move(c, from: from, to: next) else { return }
            try tx.cancelDeadline(kind: Self.slaTimer, key: c.refundId.description)
            try tx.publishStatus(status(c, next, at: d.at, actor: actor, rule: .reviewerDecision,
                                        because: d.reason.map(Explanation.text) ?? .init(.rejectedByReviewer)))
        case .askEvidence:
            guard from == .manualReview else { return logIgnored("evidence request on an appeal", tx) }
            c.state = .needsEvidence
            guard try repo.move(c, from: from, to: .needsEvidence) else { return }
            try tx.cancelDeadline(kind: Self.slaTimer, key: c.refundId.description)
            try tx.publishStatus(status(c, .needsEvidence, at: d.at, actor: actor, rule: .reviewerDecision,
                                        because: d.reason.map(Explanation.text) ?? .init(.reviewerAsksEvidence),
                                        missing: d.missing ?? []))
        }
    }

    // MARK: - Helpers

    private func approve(_ c: ReviewCase, decision: PreCheckDecision, actor: String, at: Date,
                         tx: StageTransaction) throws {
        let a = c.application
        guard let line = a.order.line(a.lineId) else { throw StageError.permanent("line not in the order facts") }
        var e = status(c, .approved, at: at, actor: actor, rule: decision.rule, because: decision.because)
        e.amount = decision.amount
        e.advanceCompensation = decision.advanceCompensation
        try tx.publishStatus(e)
        let approved = RefundApproved(
            refundId: c.refundId, orderId: a.order.orderId, lineId: a.lineId, buyerId: c.buyerId,
            supplierId: line.supplierId, productKind: line.productKind, reason: a.reason, amount: decision.amount,
            linePaid: line.paid,
            paymentChannel: a.order.paymentChannel, preferredRoute: a.preferredRoute, fastRefund: decision.fastRefund,
            advanceCompensation: decision.advanceCompensation, rule: decision.rule, evidence: a.evidence.map(\.kind),
            approvedAt: at, orderPaid: try a.order.totalPaid())
        try tx.publish(Topology.Key.refundApproved, Envelope(type: MessageType.refundApproved,
                                                             correlationId: c.refundId.description, payload: approved))
    }

    private func status(_ c: ReviewCase, _ step: RefundState, at: Date, actor: String, rule: RuleID? = nil,
                        because reason: Explanation? = nil, missing: [String]? = nil,
                        expectedNextBy: Date? = nil) -> RefundStatusEvent {
        RefundStatusEvent(refundId: c.refundId, orderId: c.application.order.orderId, buyerId: c.buyerId, step: step,
                          at: at, actor: actor, rule: rule, because: reason,
                          amount: c.decision?.amount, missingEvidence: missing, expectedNextBy: expectedNextBy)
    }

    /// Late, duplicate or out-of-order actions change nothing; they are logged (without personal data) and acked.
    private func logIgnored(_ what: String, _ tx: StageTransaction) {
        tx.logger.info("ignored: \(what) does not apply to the case's current state")
    }
}
