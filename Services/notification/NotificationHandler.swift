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
            .onRaw(MessageType.refundStatus) { message, tx in
                let eventId = message.header.id.description
                let repo = DeliveryRepository(db: tx.db)
                if let known = tx.prepared[eventId] as? PreparedNews {
                    try notify(known.event, eventId: eventId, news: known.news, repo: repo, tx: tx)
                } else {
                    let e = try message.decode(RefundStatusEvent.self).payload
                    let news = try repo.news(refundId: e.refundId, step: e.step, at: e.at, overdue: e.overdue == true,
                                             buyerId: e.buyerId)
                    try notify(e, eventId: eventId, news: news, repo: repo, tx: tx)
                }
            }
    }

    /// A status event of the window, decoded, and whether it is news (asked with the window's other events).
    struct PreparedNews: Sendable {
        let event: RefundStatusEvent
        let news: News
    }

    /// The window's status events ask whether they are news in one round trip instead of one each (the consumer's
    /// only wait per message). Only those before the window's first other message (a buyer's profile): a profile
    /// saved in the window must be seen by the events after it, as it is when they are handled one by one. An event
    /// that does not decode ends the run too; its handler dead-letters it.
    func prepare(_ window: [IncomingMessage], in tx: StageTransaction) throws {
        var events: [(String, RefundStatusEvent)] = []
        for m in window {
            guard m.header.type == MessageType.refundStatus,
                  let e = try? m.decode(RefundStatusEvent.self).payload else { break }
            events.append((m.header.id.description, e))
        }
        guard events.count > 1 else { return }
        let answers = try DeliveryRepository(db: tx.db).news(events.map(\.1))
        for ((id, e), news) in zip(events, answers) { tx.prepared[id] = PreparedNews(event: e, news: news) }
    }

    private func notify(_ e: RefundStatusEvent, eventId: String, news: News,
                        repo: DeliveryRepository, tx: StageTransaction) throws {
        // The timeline (intake) keeps every event; the buyer's messages only the news.
        let (isNews, contact) = news
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
