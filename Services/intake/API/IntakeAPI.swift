import Foundation
import HTTPStage
import Logging
import Postgres
import RefundModel
import StageRuntime

/// What the HTTP routes do, without HTTP: each command is one transaction on intake's schema whose messages go out
/// through the outbox, so a request either takes full effect (row + timeline + message) or none.
struct IntakeAPI: Sendable {
    let pool: DatabasePool
    let schema: String
    /// A refund in review longer than this is overdue: its buyer may open a follow-up ticket (DOMAIN.md §6).
    var reviewOverdueSeconds: Double = 48 * 3600
    var evidenceLimits = EvidenceLimits()
    let logger = Logger(label: "intake")

    // MARK: Buyer

    func apply(caller: Caller, idempotencyKey: String, body: [UInt8]) async throws -> (Int, [UInt8]) {
        guard case .buyer(let buyerId) = caller else {
            throw APIError(.forbidden, "forbidden", "only buyers apply for refunds")
        }
        let input = try JSONInput(body, allowed: ["orderId", "lineId", "reason", "requestedAmount", "evidence",
                                                  "preferredRoute", "giftReturned"], maxDepth: 8)
        let orderId = try input.string("orderId", maxLength: 64)!
        let lineId = try input.string("lineId", maxLength: 64)!
        let reason = try input.enumValue("reason", RefundReason.self, code: "unknown_reason")!
        let requested = try input.money("requestedAmount")
        let evidence = try input.evidence("evidence")
        try evidenceLimits.check(existing: "[]", adding: evidence)
        let route = try input.enumValue("preferredRoute", PayoutRoute.self, code: "unknown_route", required: false)
            ?? .original
        let giftReturned = try input.bool("giftReturned") ?? false
        // The whole body is kept with the key: "same request" means the same bytes, no hash collisions to reason about.
        let requestBody = String(decoding: body, as: UTF8.self)
        let schema = schema
        return try await pool.withConnection { db in
            try StageTransaction.run(on: db, schema: schema) { tx -> (Int, [UInt8]) in
                let repo = RefundRepository(db: tx.db)
                if let first = try repo.idempotent(caller: caller.key, key: idempotencyKey) {
                    guard first.requestBody == requestBody else {
                        throw APIError.conflict("idempotency_key_reused",
                                                "this Idempotency-Key was used for a different request")
                    }
                    return (first.status, Array(first.body.utf8))
                }
                // Another buyer's order is answered exactly like a missing one: its existence is not revealed.
                guard let order = try repo.order(orderId), order.buyerId == buyerId else {
                    throw APIError.notFound("order_not_found", "no such order")
                }
                guard let line = order.line(lineId) else { throw APIError.notFound("line_not_found", "no such line") }
                if let requested, requested.currency != line.paid.currency {
                    throw APIError.unprocessable("currency_mismatch", "the order was paid in \(line.paid.currency)")
                }
                let paidTotal = try order.lines.reduce(Money.zero(line.paid.currency)) { try $0.adding($1.paid) }
                let standing = try repo.lineStanding(orderId: orderId, lineId: lineId)
                let committed = try Money(minorUnits: standing.orderFen, currency: line.paid.currency)
                let orderRefundable = try paidTotal.subtractingClamped(committed)
                // What this line has left, then what the order has left: a line already refunded in full takes no
                // second refund even while other lines keep the order's total open.
                let onLine = try Money(minorUnits: standing.lineFen, currency: line.paid.currency)
                let lineRefundable = try line.paid.subtractingClamped(onLine).minimum(orderRefundable)
                if let requested, lineRefundable < requested {
                    throw APIError.unprocessable("amount_exceeds_refundable",
                                                 "at most \(lineRefundable.minorUnits) fen can be refunded on this line")
                }
                if lineRefundable.isZero {
                    throw APIError.unprocessable("amount_exceeds_refundable",
                                                 "nothing is left to refund on this order line")
                }
                if standing.openOnLine {
                    throw APIError.conflict("refund_already_open", "this order line already has an open refund")
                }
                let now = Date()
                let id = RefundID()
                let record = RefundRecord(
                    refundId: id, buyerId: buyerId, orderId: orderId, lineId: lineId, state: .submitted,
                    reason: reason.rawValue, currency: line.paid.currency.code, requestedFen: requested?.minorUnits,
                    amountFen: nil,
                    evidence: try repo.json(StoredEvidence.fromBuyer(evidence, at: now)),
                    preferredRoute: route.rawValue,
                    appealed: false, excludedReviewer: nil, findings: nil, expectedNextBy: nil, createdAt: now)
                try repo.insert(record)
                let received = Explanation(.applicationReceived)
                try repo.appendStep(id, step: RefundState.submitted.rawValue, at: now, actor: "buyer",
                                    because: received)
                let applied = RefundApplied(
                    refundId: id, order: order, lineId: lineId, reason: reason, requested: requested,
                    evidence: evidence, giftReturned: giftReturned, preferredRoute: route, appliedAt: now,
                    orderRefundable: lineRefundable)
                try tx.publish(Topology.Key.refundApplied,
                               Envelope(type: MessageType.refundApplied, correlationId: id.description, payload: applied))
                try RefundRates(db: tx.db).refundApplied(id, order: order, line: line, reason: reason,
                                                         buyerId: buyerId)
                // The timeline is the one step just written: shown from here rather than read back.
                let view = RefundView(record, steps: [TimelineStep(
                    step: RefundState.submitted.rawValue, at: MessageCoding.millis(now), actor: "buyer", rule: nil,
                    explanation: received.english, reason: received, kind: "action")])
                let body = try Self.encode(view)
                try repo.remember(caller: caller.key, key: idempotencyKey, requestBody: requestBody, status: 201,
                                  body: String(decoding: body, as: UTF8.self))
                return (201, body)
            }
        }
    }

    func refund(caller: Caller, id: String, locale: BuyerLocale = .en) async throws -> [UInt8] {
        guard let refundId = RefundID(id) else { throw APIError.notFound("refund_not_found", "no such refund") }
        return try await pool.withConnection { db in
            let repo = RefundRepository(db: db)
            guard let r = try repo.refund(refundId), Self.canSee(caller, r) else {
                throw APIError.notFound("refund_not_found", "no such refund")
            }
            return try Self.encode(RefundView(r, steps: try repo.timeline(refundId), locale: locale))
        }
    }

    func refunds(caller: Caller, orderId: String, locale: BuyerLocale = .en) async throws -> [UInt8] {
        try await pool.withConnection { db in
            let repo = RefundRepository(db: db)
            let views = try repo.refunds(orderId: orderId).filter { Self.canSee(caller, $0) }.map {
                RefundView($0, steps: try repo.timeline($0.refundId), locale: locale)
            }
            return try Self.encode(["refunds": views])
        }
    }

    /// Evidence, appeal, withdrawal: a buyer action on their own refund, allowed only in the states listed.
    func buyerAction(caller: Caller, id: String, kind: String, body: [UInt8]) async throws -> [UInt8] {
        guard case .buyer(let buyerId) = caller else {
            throw APIError(.forbidden, "forbidden", "only the buyer acts on a refund")
        }
        guard let refundId = RefundID(id) else { throw APIError.notFound("refund_not_found", "no such refund") }
        let input = body.isEmpty && kind == "withdraw"
            ? nil : try JSONInput(body, allowed: ["evidence", "note", "route", "account"], maxDepth: 8)
        let fallback = try kind == "fallback" ? Self.fallbackChoice(input) : nil
        let evidence = try input?.evidence("evidence") ?? []
        let note = try input?.string("note", required: false, maxLength: 2000)
        let schema = schema
        let evidenceLimits = evidenceLimits
        return try await pool.withConnection { db in
            try StageTransaction.run(on: db, schema: schema) { tx in
                let repo = RefundRepository(db: tx.db)
                guard let r = try repo.refund(refundId, forUpdate: true), r.buyerId == buyerId else {
                    throw APIError.notFound("refund_not_found", "no such refund")
                }
                try evidenceLimits.check(existing: r.evidence, adding: evidence)
                let now = Date()
                let action = BuyerAction(refundId: refundId, buyerId: buyerId, evidence: evidence, note: note,
                                         fallback: fallback, at: now)
                // Evidence only adds to the file; the other actions change the refund's path, one at a time.
                if kind != "evidence", let pending = r.actionInFlight {
                    throw APIError.tooLate(pending, state: r.state)
                }
                let type: String
                switch kind {
                case "evidence":
                    guard [.submitted, .needsEvidence, .manualReview].contains(r.state) else {
                        throw APIError.conflict("invalid_state", "evidence can be added only while the refund waits")
                    }
                    guard !evidence.isEmpty else { throw APIError.badRequest("missing_field", "evidence is required") }
                    try repo.addEvidence(refundId, StoredEvidence.fromBuyer(evidence, at: now))
                    type = MessageType.evidenceAdded
                case "appeal":
                    guard r.state == .rejected, !r.appealed else {
                        throw APIError.conflict("appeal_not_allowed", "only a rejected refund can be appealed, once")
                    }
                    try repo.addEvidence(refundId, StoredEvidence.fromBuyer(evidence, at: now))
                    try repo.markAppealed(refundId)
                    type = MessageType.refundAppealed
                case "fallback":
                    guard r.state == .payoutFailed else {
                        throw APIError.conflict("invalid_state", "a fallback is chosen only after the payout failed")
                    }
                    type = MessageType.fallbackChosen
                default:
                    guard r.state.canMove(to: .withdrawn) else {
                        throw APIError.conflict("too_late", "a refund can be withdrawn only before it is approved "
                                                    + "(now \(r.state.rawValue))")
                    }
                    type = MessageType.refundWithdrawn
                }
                let chosen = fallback.map { f in
                    f.account.map { Explanation(.fallbackToAccount, ["channel": $0.channel.rawValue, "account": $0.masked]) }
                        ?? Explanation(.fallbackToBalance)
                }
                try repo.appendStep(refundId, step: type.replacingOccurrences(of: "refund.", with: ""), at: now,
                                    actor: "buyer", because: chosen ?? note.map(Explanation.text))
                try tx.publish(type, Envelope(type: type, correlationId: refundId.description, payload: action))
                if kind != "evidence" { try repo.markActionPending(refundId, kind, at: now) }
                guard let updated = try repo.refund(refundId) else { throw APIError.notFound("refund_not_found", "") }
                return try Self.encode(RefundView(updated, steps: try repo.timeline(refundId)))
            }
        }
    }

    /// DOMAIN.md §5: after a failed payout, the platform balance or an account the buyer designates.
    private static func fallbackChoice(_ input: JSONInput?) throws -> FallbackChoice {
        guard let input else { throw APIError.badRequest("missing_field", "route is required") }
        let route = try input.enumValue("route", FallbackChoice.Route.self, code: "unknown_route")!
        return FallbackChoice(route: route, account: route == .account ? try input.account("account") : nil)
    }

    // MARK: Reviewer

    /// Refund rates by `product`, `supplier` or `reason` over a day, a week and 30 days, with each key's latest
    /// abnormal-rise flag (DOMAIN.md §7; `RefundRates`, `RateSpike`).
    func refundRates(caller: Caller, dimension: String?) async throws -> [UInt8] {
        guard case .reviewer = caller else { throw APIError(.forbidden, "forbidden", "reviewers only") }
        let dimension = dimension ?? "product"
        guard ["product", "supplier", "reason"].contains(dimension) else {
            throw APIError.badRequest("invalid_parameter", "dimension is product, supplier or reason")
        }
        return try await pool.withConnection { db in
            let rule = RefundRates.rule
            struct Report: Encodable {
                var dimension: String
                var asOf: String
                var method: String
                var rates: [RefundRates.Row]
            }
            return try Self.encode(Report(
                dimension: dimension, asOf: RefundRates.day(Date()),
                method: "refunds counted on their order's day; the last \(rule.recentDays) days against the \(rule.baselineDays) "
                    + "before, one-sided binomial test, flagged below p = \(rule.alpha) with at least \(rule.minOrders) orders "
                    + "and \(rule.minRefunds) refunds",
                rates: try RefundRates(db: db).report(dimension: dimension)))
        }
    }

    func reviewQueue(caller: Caller, locale: BuyerLocale = .en) async throws -> [UInt8] {
        guard case .reviewer = caller else { throw APIError(.forbidden, "forbidden", "reviewers only") }
        return try await pool.withConnection { db in
            let repo = RefundRepository(db: db)
            let now = Date()
            let items = try repo.reviewQueue(now: now).map { r in
                ReviewItem(
                    refund: RefundView(r, steps: try repo.timeline(r.refundId), locale: locale), buyerId: r.buyerId,
                    overdue: (r.expectedNextBy.map { $0 < now }) ?? false,
                    findings: r.findings.flatMap {
                        try? RefundRepository.decoder.decode(PreCheckDecision.self, from: Data($0.utf8))
                    },
                    excludedReviewer: r.state == .appealed ? r.excludedReviewer : nil,
                    buyerHistory: try repo.history(buyerId: r.buyerId))
            }
            return try Self.encode(["items": items])
        }
    }

    func decide(caller: Caller, id: String, body: [UInt8]) async throws -> [UInt8] {
        guard case .reviewer(let reviewerId) = caller else {
            throw APIError(.forbidden, "forbidden", "reviewers only")
        }
        guard let refundId = RefundID(id) else { throw APIError.notFound("refund_not_found", "no such refund") }
        let input = try JSONInput(body, allowed: ["decision", "approvedAmount", "reason", "missing"], maxDepth: 6,
                                  forbidden: [])
        let kind = try input.enumValue("decision", ReviewerDecision.Kind.self, code: "unknown_decision")!
        let amount = try input.money("approvedAmount")
        let reason = try input.string("reason", required: kind == .reject, maxLength: 2000)
        var missing: [String]?
        if kind == .askEvidence {
            guard case .array(let items)? = input.fields["missing"], !items.isEmpty else {
                throw APIError.badRequest("missing_field", "missing: the evidence kinds to ask for")
            }
            missing = try items.map {
                guard case .string(let s) = $0, EvidenceKind(rawValue: s) != nil else {
                    throw APIError.badRequest("unknown_evidence_kind", "missing lists evidence kinds")
                }
                return s
            }
        }
        let schema = schema, asked = missing
        return try await pool.withConnection { db in
            try StageTransaction.run(on: db, schema: schema) { tx in
                let repo = RefundRepository(db: tx.db)
                guard let r = try repo.refund(refundId, forUpdate: true) else {
                    throw APIError.notFound("refund_not_found", "no such refund")
                }
                guard RefundState.awaitingReviewer.contains(r.state) else {
                    throw APIError.conflict("invalid_state", "the refund is not waiting for a reviewer")
                }
                if let pending = r.actionInFlight { throw APIError.tooLate(pending, state: r.state) }
                if r.state == .disputed, kind == .askEvidence {
                    throw APIError.conflict("invalid_state", "a dispute is approved or rejected")
                }
                if r.state == .appealed, r.excludedReviewer == reviewerId {
                    throw APIError.conflict("same_reviewer", "an appeal is decided by a different reviewer")
                }
                if let amount {
                    let refundable = try repo.order(r.orderId)?.line(r.lineId)?.paid
                    guard amount.currency.code == r.currency, let refundable, amount <= refundable else {
                        throw APIError.unprocessable("amount_exceeds_refundable", "more than the line's paid amount")
                    }
                }
                let d = ReviewerDecision(refundId: refundId, reviewerId: reviewerId, kind: kind, amount: amount,
                                         reason: reason, missing: asked, at: Date())
                try repo.appendStep(refundId, step: "reviewer_decided", at: d.at, actor: "reviewer:\(reviewerId)",
                                    because: .init(.reviewerDecided, ["kind": kind.rawValue]))
                // A dispute between buyer and supplier is arbitrated where the supplier's answer lives.
                let key = r.state == .disputed ? Topology.Key.arbitrationDecided : Topology.Key.reviewerDecided
                try tx.publish(key, Envelope(type: key, correlationId: refundId.description, payload: d))
                try repo.markActionPending(refundId, "reviewer decision", at: d.at)
                return try Self.encode(["accepted": true])
            }
        }
    }

    // MARK: Helpers

    static func canSee(_ caller: Caller, _ r: RefundRecord) -> Bool {
        switch caller {
        case .buyer(let id): return r.buyerId == id
        case .reviewer: return true
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        [UInt8](try MessageCoding.encoder().encode(value))
    }
}
