import Foundation
import Logging
import RefundModel
import StageRuntime

/// Supplier verification's logic (DOMAIN.md §4): asks the supplier, then acts on its answer, its silence, or
/// operations' arbitration; records each supplier's timeliness and charges its deposit when it is at fault.
struct VerificationHandler: StageHandler {
    static let answerTimer = "supplier-answer"
    let settings: VerificationSettings
    var routes: MessageRoutes {
        MessageRoutes()
            .on(MessageType.refundApproved, RefundApproved.self) { a, _, tx in
                try approved(a, repo: RequestRepository(db: tx.db), tx: tx)
            }
            // Checked against the published schema before it is decoded (`reply`).
            .onRaw(SupplierProtocol.replyType) { message, tx in
                try reply(message, repo: RequestRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.arbitrationDecided, ReviewerDecision.self) { d, _, tx in
                try arbitrated(d, repo: RequestRepository(db: tx.db), tx: tx)
            }
    }

    /// A supplier's reply was refused (undecodable, too large, another supplier's request, an answer the protocol
    /// does not allow): the supplier is told on its own queue, with the request when the reply could be read that
    /// far and until when a corrected reply still counts, and the refusal is counted in its record (apart from
    /// silence). Anything else dead-lettered here (a forged reply has no supplier to tell) is left to the operators.
    func deadLettered(_ letter: DeadLetterNotice, in tx: StageTransaction) throws {
        guard letter.routingKey == SupplierProtocol.replyRoutingKey,
              let supplier = letter.validatedUserId.flatMap(SupplierProtocol.supplier(fromUser:)) else { return }
        let repo = RequestRepository(db: tx.db)
        // Best effort: the request id from a body that may be anything.
        let payload = (try? JSONSerialization.jsonObject(with: Data(letter.body)) as? [String: Any])?["payload"]
        let requestId = (payload as? [String: Any])?["requestId"] as? String
        let open = try requestId.flatMap(UUID.init(uuidString:)).flatMap { try repo.load(requestId: $0) }
            .flatMap { $0.supplierId == supplier && $0.state == "waiting" ? $0 : nil }
        // Named back only when it is a request id at all (the schema's uuid), so the refusal itself is valid.
        let namedRequest = requestId.flatMap(UUID.init(uuidString:)) == nil ? nil : requestId
        let refusal = ReplyRefused(replyMessageId: letter.messageId, requestId: namedRequest,
                                   reason: String(PersonalData.mask(letter.reason).prefix(500)),
                                   answerBy: open?.answerBy, at: Date())
        try tx.publish(Topology.Key.supplierReplyRefused(supplier: supplier),
                       Envelope(type: SupplierProtocol.replyRefusedType, schemaVersion: SupplierProtocol.schemaVersion,
                                correlationId: letter.correlationId, payload: refusal))
        try repo.count(supplier, .refused)
        try publishRecord(supplier, repo: repo, tx: tx)
        tx.logger.info("supplier reply refused; the supplier was told",
                    metadata: ["supplier": "\(supplier)", "request": "\(requestId ?? "-")"])
    }

    /// The supplier's record changed (an answer counted, a deposit charged): intake shows it beside its refund rate.
    private func publishRecord(_ supplier: String, repo: RequestRepository, tx: StageTransaction) throws {
        try tx.publish(Topology.Key.supplierRecord, Envelope(type: MessageType.supplierRecord, correlationId: supplier,
                                                             payload: try repo.record(supplier)))
    }

    /// The supplier did not answer in time: decided in the buyer's favour and counted against the supplier.
    func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        guard deadline.kind == Self.answerTimer, let id = UUID(uuidString: deadline.key) else { return }
        let repo = RequestRepository(db: tx.db)
        guard let r = try repo.load(requestId: id), try repo.settle(id, from: "waiting", to: "timed_out") else { return }
        try repo.count(r.supplierId, .silent)
        if r.approved.advanceCompensation {
            // Paid at approval: silence books the clawback like any answer (PROTOCOL.md), nothing for the buyer.
            try repo.chargeDeposit(r.supplierId, refund: r.approved.refundId, amount: r.approved.amount,
                                   cause: "advance_compensation")
            try publishRecord(r.supplierId, repo: repo, tx: tx)
            return
        }
        try publishRecord(r.supplierId, repo: repo, tx: tx)
        try status(r.approved, .supplierVerification, actor: "system", tx: tx,
                   why: .init(.supplierSilent))
        try verified(r.approved, amount: r.approved.amount, outcome: .silentSupplier, tx: tx)
    }

    // MARK: - Steps

    private func approved(_ a: RefundApproved, repo: RequestRepository, tx: StageTransaction) throws {
        // Fast refunds (undelivered, small) and kinds that need no check go straight to payout.
        guard settings.kindsToVerify.contains(a.productKind), !a.fastRefund else {
            return try verified(a, amount: a.amount, outcome: .notRequired, tx: tx)
        }
        let requestId = UUID()
        let answerBy = Date().addingTimeInterval(settings.answerWithin)
        guard try repo.insert(requestId: requestId, approved: a, answerBy: answerBy) else { return }
        // Advance compensation (platform fault, review SLA breached): the buyer is paid now, not after the supplier;
        // the request still goes out and its answer (or silence) settles what the supplier owes (DOMAIN.md §3).
        if a.advanceCompensation { try verified(a, amount: a.amount, outcome: .advanceCompensation, tx: tx) }
        let request = VerificationRequest(
            requestId: requestId.uuidString.lowercased(), refundId: a.refundId.description, orderId: a.orderId,
            lineId: a.lineId, productKind: a.productKind, itemReference: "\(a.orderId)/\(a.lineId)", reason: a.reason,
            answerBy: answerBy)
        try tx.publish(Topology.Key.supplierRequest(supplier: a.supplierId),
                       Envelope(type: SupplierProtocol.requestType, schemaVersion: SupplierProtocol.schemaVersion,
                                correlationId: a.refundId.description, payload: request))
        try tx.schedule(kind: Self.answerTimer, key: request.requestId, dueAt: answerBy)
        guard !a.advanceCompensation else { return }  // the buyer's timeline does not wait on the supplier
        try status(a, .supplierVerification, actor: "system", tx: tx,
                   why: .init(.askingSupplier), next: answerBy)
    }

    private func reply(_ message: IncomingMessage, repo: RequestRepository, tx: StageTransaction) throws {
        guard message.body.count <= SupplierProtocol.maxReplyBytes else {
            throw StageError.permanent("reply larger than \(SupplierProtocol.maxReplyBytes) bytes")
        }
        // Who answers is who RabbitMQ authenticated, never what the body claims.
        guard let user = message.validatedUserId, let supplier = SupplierProtocol.supplier(fromUser: user) else {
            throw StageError.permanent("reply without a validated supplier user_id: refused")
        }
        // The published schema first: what PROTOCOL.md refuses is refused here, in its words, before any decoding.
        guard let value = try? JSONValue.parse(message.body) else { throw StageError.permanent("reply is not JSON") }
        let problems = SupplierProtocol.schemas.problems(value, document: SupplierProtocol.replySchema)
        guard problems.isEmpty else {
            throw StageError.permanent("reply does not match \(SupplierProtocol.replySchema): "
                + problems.prefix(3).joined(separator: "; "))
        }
        let reply = try message.decode(VerificationReply.self).payload
        guard let id = UUID(uuidString: reply.requestId), let r = try repo.load(requestId: id) else {
            return log(tx, nil, "reply for an unknown request ignored", supplier: supplier)
        }
        guard r.supplierId == supplier else {
            throw StageError.permanent("supplier \(supplier) answered a request of another supplier: refused")
        }
        if r.state == "timed_out" {
            try repo.count(supplier, .late)
            try publishRecord(supplier, repo: repo, tx: tx)
            return log(tx, r.approved.refundId, "late reply: the deadline already decided", supplier: supplier)
        }
        guard r.state == "waiting" else {
            return log(tx, r.approved.refundId, "duplicate reply ignored", supplier: supplier)
        }
        if reply.answer == .partial {
            guard let bp = reply.usedBp, (1...9_999).contains(bp) else {
                throw StageError.permanent("partial answer needs usedBp between 1 and 9999")
            }
        }
        let a = r.approved
        let next = reply.answer == .used && !a.advanceCompensation ? "disputed" : "answered"
        guard try repo.settle(id, from: "waiting", to: next, answer: reply) else { return }
        try tx.cancelDeadline(kind: Self.answerTimer, key: reply.requestId)
        try repo.count(supplier, .inTime)
        if a.advanceCompensation {
            // The platform paid at approval: whatever the answer, the supplier owes it back (PROTOCOL.md); the
            // buyer's refund is already on its way and is not reopened by the answer.
            try repo.chargeDeposit(supplier, refund: a.refundId, amount: a.amount, cause: "advance_compensation")
            try publishRecord(supplier, repo: repo, tx: tx)
            return log(tx, a.refundId, "advance compensation: the answer \(reply.answer.rawValue) booked against the deposit",
                       supplier: supplier)
        }
        try publishRecord(supplier, repo: repo, tx: tx)
        let actor = "supplier:\(supplier)"
        switch reply.answer {
        case .confirmed:
            try status(a, .supplierVerification, actor: actor, tx: tx, why: .init(.supplierConfirmed))
            try verified(a, amount: a.amount, outcome: .confirmed, tx: tx)
        case .unknownOrder:
            try status(a, .supplierVerification, actor: actor, tx: tx,
                       why: .init(.supplierNoRecord))
            try verified(a, amount: a.amount, outcome: .unknownOrder, tx: tx)
        case .partial:
            let remaining = try a.linePaid.multiplied(numerator: 10_000 - reply.usedBp!, denominator: 10_000)
            let amount = try a.amount.minimum(remaining)
            try status(a, .supplierVerification, actor: actor, tx: tx,
                       why: .init(.supplierPartial, ["percent": String(reply.usedBp! / 100), "amount": String(amount.minorUnits),
                                                   "currency": amount.currency.code]), amount: amount)
            try verified(a, amount: amount, outcome: .partial, tx: tx)
        case .used:
            // The buyer's own proof of failure or non-use against the supplier's log: operations arbitrate.
            let contrary: Set<EvidenceKind> = [.activationFailureLog, .unusedProof]
            if a.evidence.contains(where: contrary.contains) {
                try status(a, .disputed, actor: actor, tx: tx,
                           why: .init(.supplierUsedDisputed))
            } else {
                _ = try repo.settle(id, from: "disputed", to: "closed")
                try status(a, .rejectedFinal, actor: actor, tx: tx,
                           why: .init(.supplierUsedLog, reply.usedAt.map { ["at": PlatformTime.iso($0)] } ?? [:]))
            }
        }
    }

    private func arbitrated(_ d: ReviewerDecision, repo: RequestRepository, tx: StageTransaction) throws {
        guard let r = try repo.load(refundId: d.refundId), r.state == "disputed" else {
            return log(tx, d.refundId, "arbitration for a refund not in dispute ignored", supplier: nil)
        }
        guard try repo.settle(r.requestId, from: "disputed", to: "closed") else { return }
        let a = r.approved
        let actor = "reviewer:\(d.reviewerId)"
        if d.kind == .approve {
            let amount = try d.amount.map { try a.amount.minimum($0) } ?? a.amount
            try repo.count(r.supplierId, .disputesLost)
            try repo.chargeDeposit(r.supplierId, refund: a.refundId, amount: amount, cause: "dispute_lost")
            try publishRecord(r.supplierId, repo: repo, tx: tx)
            try status(a, .processing, actor: actor, tx: tx, why: .init(.arbitrationForBuyer), amount: amount)
            try verified(a, amount: amount, outcome: .arbitratedForBuyer, tx: tx)
        } else {
            try status(a, .rejectedFinal, actor: actor, tx: tx,
                       why: d.reason.map(Explanation.text) ?? .init(.arbitrationFoundUsed))
        }
    }

    // MARK: - Helpers

    private func verified(_ a: RefundApproved, amount: Money, outcome: RefundVerified.Outcome,
                          tx: StageTransaction) throws {
        let v = RefundVerified(approved: a, amount: amount, outcome: outcome, verifiedAt: Date())
        try tx.publish(Topology.Key.refundVerified, Envelope(type: MessageType.refundVerified,
                                                             correlationId: a.refundId.description, payload: v))
    }

    private func status(_ a: RefundApproved, _ step: RefundState, actor: String, tx: StageTransaction,
                        why: Explanation, next: Date? = nil, amount: Money? = nil) throws {
        try tx.publishStatus(RefundStatusEvent(
            refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: step, at: Date(), actor: actor,
            because: why, amount: amount, expectedNextBy: next))
    }

    private func log(_ tx: StageTransaction, _ refund: RefundID?, _ what: String, supplier: String?) {
        var l = tx.logger
        if let refund { l[metadataKey: "refund.id"] = "\(refund)" }
        if let supplier { l[metadataKey: "supplier.id"] = "\(supplier)" }
        l.info("\(what)")
    }
}
