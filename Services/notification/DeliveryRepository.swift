import Foundation
import Postgres
import RefundModel

/// The notification channels, spelled as the `deliveries.channel` column.
enum Channel: String, CaseIterable, Sendable {
    case sms
    case email
    case inApp = "in_app"
}

struct Delivery {
    var eventId: String
    var channel: Channel
    var refundId: String
    var address: String
    var title: String
    var body: String
    var attempts: Int
}

/// Every SQL statement of notification.
struct DeliveryRepository {
    let db: PostgresConnection

    /// Keeps the newer profile only.
    func saveContact(_ p: BuyerProfile) throws {
        try db.query("""
            INSERT INTO contacts (buyer_id, phone, email, locale, updated_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
            ON CONFLICT (buyer_id) DO UPDATE SET phone = excluded.phone, email = excluded.email,
                   locale = excluded.locale, updated_at = excluded.updated_at
            WHERE contacts.updated_at < excluded.updated_at
            """, [p.buyerId, p.phone, p.email, p.locale.rawValue, p.updatedAt])
    }

    func contact(_ buyerId: String) throws -> (phone: String?, email: String?, locale: BuyerLocale) {
        guard let row = try db.query("SELECT phone, email, locale FROM contacts WHERE buyer_id = $1", [buyerId]).first
        else { return (nil, nil, .zh) }
        return (try row.optionalString("phone"), try row.optionalString("email"),
                BuyerLocale(rawValue: try row.string("locale")) ?? .zh)
    }

    /// Whether `step` (at `at`) is news to the buyer: true, and recorded as the refund's latest notified step, when it
    /// comes after the step last notified and is not that same step again (unless it says the step is late); false
    /// for a repeat or a late arrival. Steps are ordered by (time, progress), as intake's projection orders them,
    /// never by arrival.
    func isNews(refundId: RefundID, step: RefundState, at: Date, overdue: Bool) throws -> Bool {
        try !db.query("""
            INSERT INTO notified_steps AS n (refund_id, step, at, progress) VALUES ($1::uuid, $2, $3, $4)
            ON CONFLICT (refund_id) DO UPDATE SET step = excluded.step, at = excluded.at, progress = excluded.progress
            WHERE (n.at, n.progress) < (excluded.at, excluded.progress) AND (n.step <> excluded.step OR $5)
            RETURNING 1
            """, [refundId.rawValue, step.rawValue, at, step.progress, overdue]).isEmpty
    }

    /// What a channel's senders listen on: a new pending delivery wakes that channel's senders (and only them) at
    /// its commit, so none waits for its poll (only the fallback for retries that come due later).
    static func wakeChannel(_ channel: Channel) -> String { "notification_deliveries_\(channel.rawValue)" }

    /// Records a delivery once per (event, channel); an address refused before is recorded as refused at once.
    /// A pending one wakes the senders (the NOTIFY rides in the same statement: no extra round trip).
    func add(eventId: String, channel: Channel, buyerId: String, refundId: RefundID, step: RefundState,
             address: String?, title: String, body: String, state: String) throws {
        try db.query("""
            WITH added AS (
                INSERT INTO deliveries (event_id, channel, buyer_id, refund_id, step, address, title, body, state,
                                        last_error)
                SELECT $1, $2, $3, $4::uuid, $5, $6, $7, $8,
                       CASE WHEN r.reason IS NULL THEN $9 ELSE 'refused' END, r.reason
                FROM (SELECT 1) one LEFT JOIN refused_addresses r ON r.channel = $2 AND r.address = $6
                ON CONFLICT DO NOTHING
                RETURNING state)
            SELECT pg_notify($10, '') FROM added WHERE state = 'pending'
            """, [eventId, channel.rawValue, buyerId, refundId.rawValue, step.rawValue, address, title, body, state,
                  Self.wakeChannel(channel)])
    }

    /// One due delivery of `channel`, locked until this transaction ends (other senders skip it).
    func claimDue(_ channel: Channel) throws -> Delivery? {
        guard let row = try db.query("""
            SELECT event_id, refund_id::text AS refund_id, address, title, body, attempts FROM deliveries
            WHERE channel = $1 AND state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED
            """, [channel.rawValue]).first else { return nil }
        return Delivery(eventId: try row.string("event_id"), channel: channel, refundId: try row.string("refund_id"),
                        address: try row.optionalString("address") ?? "", title: try row.string("title"),
                        body: try row.string("body"), attempts: try row.int("attempts"))
    }

    func markSent(_ d: Delivery) throws {
        try db.query("""
            UPDATE deliveries SET state = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL
            WHERE event_id = $1 AND channel = $2
            """, [d.eventId, d.channel.rawValue])
    }

    func retryLater(_ d: Delivery, afterMillis: Int, error: String) throws {
        try db.query("""
            UPDATE deliveries SET attempts = attempts + 1, last_error = $3,
                   next_attempt_at = now() + make_interval(secs => $4::bigint / 1000.0)
            WHERE event_id = $1 AND channel = $2
            """, [d.eventId, d.channel.rawValue, error, afterMillis])
    }

    func giveUp(_ d: Delivery, error: String) throws {
        try db.query("""
            UPDATE deliveries SET state = 'gave_up', attempts = attempts + 1, last_error = $3
            WHERE event_id = $1 AND channel = $2
            """, [d.eventId, d.channel.rawValue, error])
    }

    /// The gateway refused the address for good: this delivery and every later one to it are not attempted.
    func refuse(_ d: Delivery, reason: String) throws {
        try db.query("""
            UPDATE deliveries SET state = 'refused', attempts = attempts + 1, last_error = $3
            WHERE event_id = $1 AND channel = $2
            """, [d.eventId, d.channel.rawValue, reason])
        try db.query("""
            INSERT INTO refused_addresses (channel, address, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
            """, [d.channel.rawValue, d.address, reason])
    }
}
