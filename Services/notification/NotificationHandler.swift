import Foundation
import Logging
import RefundModel
import StageRuntime

/// Turns every `refund.status.*` event into the buyer's messages (DOMAIN.md §6): the in-app message goes out at
/// once through the outbox (intake keeps the inbox); SMS and e-mail are recorded as pending deliveries that the
/// media's sender threads send, so a slow gateway never holds up the consumer. Keeps buyers' contacts from
/// `buyer.profile`.
struct NotificationHandler: StageHandler {
    var routes: MessageRoutes {
        MessageRoutes()
            .on(MessageType.buyerProfile, BuyerProfile.self) { p, _, tx in
                guard !p.buyerId.isEmpty, p.buyerId.count <= 200 else { throw StageError.permanent("buyer id missing") }
                try DeliveryRepository(db: tx.db).saveContact(BuyerProfile(
                    buyerId: p.buyerId, phone: ContactAddress.mobile(p.phone), email: ContactAddress.email(p.email),
                    locale: p.locale, updatedAt: p.updatedAt))
            }
            .on(MessageType.refundStatus, RefundStatusEvent.self) { e, message, tx in
                try notify(e, eventId: message.header.id.description, repo: DeliveryRepository(db: tx.db), tx: tx)
            }
    }

    private func notify(_ e: RefundStatusEvent, eventId: String, repo: DeliveryRepository,
                        tx: StageTransaction) throws {
        // The timeline (intake) keeps every event; the buyer's messages only the news.
        let (isNews, contact) = try repo.news(refundId: e.refundId, step: e.step, at: e.at, overdue: e.overdue == true,
                                              buyerId: e.buyerId)
        guard isNews else { return }
        let text = Templates.render(e, locale: contact.locale)
        // In-app: always, once per event (the inbox's key is the event id).
        var deliveries = [NewDelivery(medium: .inApp, address: nil, title: text.title, body: text.body, state: "sent")]
        let message = InAppMessage(messageId: eventId, buyerId: e.buyerId, refundId: e.refundId, step: e.step,
                                   title: text.title, body: text.body, locale: contact.locale, at: e.at)
        try tx.publish(Topology.Key.inAppMessage, Envelope(type: MessageType.inAppMessage,
                                                           correlationId: e.refundId.description, payload: message))
        if let phone = contact.phone {
            deliveries.append(NewDelivery(medium: .sms, address: phone, title: text.title, body: text.sms,
                                          state: "pending"))
        }
        if let email = contact.email {
            deliveries.append(NewDelivery(medium: .email, address: email, title: text.title, body: text.body,
                                          state: "pending"))
        }
        try repo.add(deliveries, eventId: eventId, buyerId: e.buyerId, refundId: e.refundId, step: e.step)
    }
}
