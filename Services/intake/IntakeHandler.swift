import Foundation
import Logging
import RefundModel
import StageRuntime

/// Intake's consumer: keeps order facts from the marketplace's `order.*` events, projects every `refund.status.*`
/// event into the refund's state and timeline, and keeps the buyers' in-app messages (`notification.in-app`).
struct IntakeHandler: StageHandler {
    let logger = Logger(label: "intake")

    func handle(_ message: IncomingMessage, in tx: StageTransaction) throws {
        let repo = RefundRepository(db: tx.db)
        if message.header.type == MessageType.refundStatus {
            let e = try message.decode(RefundStatusEvent.self).payload
            if try !repo.apply(e, messageId: message.header.id.description) {
                var log = logger
                log[metadataKey: "refund.id"] = "\(e.refundId)"
                log.info("status recorded without a state change", metadata: ["step": "\(e.step.rawValue)"])
            }
            return
        }
        if message.header.type == MessageType.supplierRecord {
            try RefundRates(db: tx.db).supplierRecord(try message.decode(SupplierRecord.self).payload)
            return
        }
        if message.header.type == MessageType.refundIncident {
            try incident(try message.decode(RefundIncident.self).payload, repo: repo, tx: tx)
            return
        }
        if message.header.type == MessageType.inAppMessage {
            try InboxRepository(db: tx.db).saveMessage(try message.decode(InAppMessage.self).payload)
            return
        }
        guard message.header.type.hasPrefix(Topology.Key.orderPrefix) else {
            throw StageError.permanent("no handler for type \(message.header.type)")
        }
        let event = try message.decode(OrderEvent.self).payload
        // One order's events take turns (also across instances): an event that finds no order parks, and the
        // placement that arrives meanwhile must see it.
        try repo.lockOrderKey(event.orderId)
        if message.header.type == Topology.Key.orderPlaced {
            guard var facts = event.order, facts.orderId == event.orderId, !facts.lines.isEmpty else {
                throw StageError.permanent("order.placed without the order and its lines")
            }
            if let problem = facts.problem() { throw StageError.permanent("order.placed refused: \(problem)") }
            // Placed again: the first placement stands and nothing known since is erased.
            if let known = try repo.order(facts.orderId, forUpdate: true) {
                facts = known.merging(placedAgain: facts)
            } else {
                try RefundRates(db: tx.db).orderPlaced(facts)
            }
            for early in try repo.takeEarlyEvents(orderId: facts.orderId) { early.apply(to: &facts) }
            try repo.saveOrder(facts)
            return
        }
        guard var facts = try repo.order(event.orderId, forUpdate: true) else {
            // Not seen yet is not an error: there is no order between the marketplace's messages and our queue.
            logger.info("order event before its order: kept until order.placed",
                        metadata: ["message.type": "\(message.header.type)", "order.id": "\(event.orderId)"])
            try repo.keepEarlyEvent(event, messageId: message.header.id.description, type: message.header.type)
            return
        }
        event.apply(to: &facts)
        try repo.saveOrder(facts)
    }

    /// Payout's report that money may have moved twice: the refund is flagged and a reviewer ticket opened, once
    /// per kind. A refund intake does not know (it cannot happen: payout pays only what intake accepted) is an error.
    private func incident(_ i: RefundIncident, repo: RefundRepository, tx: StageTransaction) throws {
        guard try repo.refund(i.refundId) != nil else {
            throw StageError.permanent("refund.incident for a refund intake does not know")
        }
        guard let buyer = try repo.flagIncident(i.refundId, kind: i.kind.rawValue) else { return }
        _ = try InboxRepository(db: tx.db).openTicket(
            UUID(), refund: i.refundId, buyerId: buyer,
            reason: "possible double payment (R-INCIDENT-DOUBLE-PAY): \(i.channel) confirmed superseded request "
                + "\(i.requestNo) for \(i.amount) after the refund was paid by \(i.paidInstead)",
            note: nil)
        logger.error("possible double payment flagged", metadata: ["refund.id": "\(i.refundId)"])
    }
}
