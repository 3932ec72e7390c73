import Foundation
import Logging
import RefundModel
import StageRuntime

/// Intake's consumer: keeps order facts from the marketplace's `order.*` events, projects every `refund.status.*`
/// event into the refund's state and timeline, and keeps the buyers' in-app messages (`notification.in-app`).
struct IntakeHandler: StageHandler {
    var routes: MessageRoutes {
        MessageRoutes()
            .on(MessageType.refundStatus, RefundStatusEvent.self) { e, message, tx in
                try RefundRepository(db: tx.db).apply(e, messageId: message.header.id.description)
            }
            .on(MessageType.supplierRecord, SupplierRecord.self) { record, _, tx in
                try RefundRates(db: tx.db).supplierRecord(record)
            }
            .on(MessageType.refundIncident, RefundIncident.self) { i, _, tx in
                try incident(i, repo: RefundRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.inAppMessage, InAppMessage.self) { m, _, tx in
                try BuyerMessagesRepository(db: tx.db).saveMessage(m)
            }
            .on(Topology.Key.orderPlaced, OrderEvent.self) { event, _, tx in
                try placed(event, repo: RefundRepository(db: tx.db), tx: tx)
            }
            .on(Topology.Key.orderPaid, OrderEvent.self, orderFact)
            .on(Topology.Key.orderDelivered, OrderEvent.self, orderFact)
            .on(Topology.Key.orderConsumed, OrderEvent.self, orderFact)
    }

    /// The marketplace's order. One order's events take turns (also across instances): an event that finds no order
    /// parks, and the placement that arrives meanwhile must see it.
    private func placed(_ event: OrderEvent, repo: RefundRepository, tx: StageTransaction) throws {
        try repo.lockOrderKey(event.orderId)
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
    }

    /// A later fact of an order (paid, delivered, consumed), merged into what is known; kept until `order.placed`
    /// when the order is not known yet.
    private func orderFact(_ event: OrderEvent, _ message: IncomingMessage, _ tx: StageTransaction) throws {
        let repo = RefundRepository(db: tx.db)
        try repo.lockOrderKey(event.orderId)
        guard var facts = try repo.order(event.orderId, forUpdate: true) else {
            // Not seen yet is not an error: there is no order between the marketplace's messages and our queue.
            tx.logger.info("order event before its order: kept until order.placed",
                           metadata: ["order.id": "\(event.orderId)"])
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
        _ = try BuyerMessagesRepository(db: tx.db).openTicket(
            UUID(), refund: i.refundId, buyerId: buyer,
            reason: "possible double payment (R-INCIDENT-DOUBLE-PAY): \(i.channel) confirmed superseded request "
                + "\(i.requestNo) for \(i.amount) after the refund was paid by \(i.paidInstead)",
            note: nil)
        tx.logger.error("possible double payment flagged", metadata: ["refund.id": "\(i.refundId)"])
    }
}
