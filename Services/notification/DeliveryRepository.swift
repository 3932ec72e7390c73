import Foundation
import Postgres
import RefundModel

/// The notification media (SMS, e-mail, in-app), spelled as the `deliveries.medium` column. ("Channel" is the
/// payment channel's word in this code base; an AMQP channel stays inside Shared/AMQP.)
enum Medium: String, CaseIterable, Sendable {
    case sms
    case email
    case inApp = "in_app"
}

/// How a buyer is reached (`buyer.profile`).
struct Contact: Sendable {
    var phone: String?
    var email: String?
    var locale: BuyerLocale = .zh
}

/// Whether a status event is news to its buyer, and how the buyer is reached (`DeliveryRepository.news`).
typealias News = (isNews: Bool, contact: Contact)

/// A delivery an event asks for, before it is recorded.
struct NewDelivery {
    var medium: Medium
    var address: String?
    var title: String
    var body: String
    /// `sent` (in-app: the message itself goes out through the outbox) or `pending` (a sender sends it).
    var state: String
}

struct Delivery: Sendable {
    var eventId: String
    var medium: Medium
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
        try db.deferred("""
            INSERT INTO contacts (buyer_id, phone, email, locale, updated_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
            ON CONFLICT (buyer_id) DO UPDATE SET phone = excluded.phone, email = excluded.email,
                   locale = excluded.locale, updated_at = excluded.updated_at
            WHERE contacts.updated_at < excluded.updated_at
            """, [p.buyerId, p.phone, p.email, p.locale.rawValue, p.updatedAt])
    }

    /// Whether `step` (at `at`) is news to the buyer, and the buyer's contact, in one round trip. News: true, and
    /// recorded as the refund's latest notified step, when it comes after the step last notified and is not that
    /// same step again (unless it says the step is late); false for a repeat or a late arrival. Steps are ordered by
    /// (time, progress), as intake's projection orders them, never by arrival. A buyer without a profile yet is
    /// reached in-app only, in Chinese.
    func news(refundId: RefundID, step: RefundState, at: Date, overdue: Bool, buyerId: String) throws
        -> News {
        let q = Self.newsQuery(refundId: refundId, step: step, at: at, overdue: overdue, buyerId: buyerId)
        return try Self.newsAnswer(try db.query(q.sql, q.params))
    }

    /// `news` for several events, in order, in one round trip (a consumer window's status events): the same
    /// statements, run one after another, so each sees what the ones before it recorded.
    func news(_ events: [RefundStatusEvent]) throws -> [News] {
        try db.queryAll(events.map {
            Self.newsQuery(refundId: $0.refundId, step: $0.step, at: $0.at, overdue: $0.overdue == true, buyerId: $0.buyerId)
        }).map(Self.newsAnswer)
    }

    private static func newsQuery(refundId: RefundID, step: RefundState, at: Date, overdue: Bool, buyerId: String)
        -> (sql: String, params: [PostgresBindable?]) {
        ("""
            WITH news AS (
                INSERT INTO notified_steps AS n (refund_id, step, at, progress) VALUES ($1::uuid, $2, $3, $4)
                ON CONFLICT (refund_id) DO UPDATE SET step = excluded.step, at = excluded.at, progress = excluded.progress
                WHERE (n.at, n.progress) < (excluded.at, excluded.progress) AND (n.step <> excluded.step OR $5)
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM news) AS news, c.phone, c.email, c.locale
            FROM (SELECT 1) one LEFT JOIN contacts c ON c.buyer_id = $6
            """, [refundId.rawValue, step.rawValue, at, step.progress, overdue, buyerId])
    }

    private static func newsAnswer(_ rows: [PostgresRow]) throws -> News {
        guard let row = rows.first else { return (false, Contact()) }
        return (try row.bool("news"), Contact(phone: try row.optionalString("phone"),
                                                email: try row.optionalString("email"),
                                                locale: try row.optionalString("locale").flatMap(BuyerLocale.init) ?? .zh))
    }

    /// What a medium's senders listen on: a new pending delivery wakes that medium's senders (and only them) at
    /// its commit, so none waits for its poll (only the fallback for retries that come due later).
    static func wakeUp(_ medium: Medium) -> String { wakeUpPrefix + medium.rawValue }
    static let wakeUpPrefix = "notification_deliveries_"

    /// Records an event's deliveries (one per medium) once each, in one statement; an address refused before is
    /// recorded as refused at once. Pending ones wake their medium's senders (the NOTIFY rides in the same
    /// statement: no extra round trip).
    func add(_ rows: [NewDelivery], eventId: String, buyerId: String, refundId: RefundID, step: RefundState) throws {
        try db.deferred("""
            WITH wanted AS (
                SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                    AS w(medium, address, title, body, state)),
            added AS (
                INSERT INTO deliveries (event_id, medium, buyer_id, refund_id, step, address, title, body, state,
                                        last_error)
                SELECT $1, w.medium, $2, $3::uuid, $4, w.address, w.title, w.body,
                       CASE WHEN r.reason IS NULL THEN w.state ELSE 'refused' END, r.reason
                FROM wanted w LEFT JOIN refused_addresses r ON r.medium = w.medium AND r.address = w.address
                ON CONFLICT DO NOTHING
                RETURNING medium, state)
            SELECT pg_notify($10 || medium, '') FROM (SELECT DISTINCT medium FROM added WHERE state = 'pending') p
            """, [eventId, buyerId, refundId.rawValue, step.rawValue,
                  PostgresArray.text(rows.map { $0.medium.rawValue }), PostgresArray.text(rows.map(\.address)),
                  PostgresArray.text(rows.map(\.title)), PostgresArray.text(rows.map(\.body)),
                  PostgresArray.text(rows.map(\.state)), Self.wakeUpPrefix])
    }

    /// Up to `limit` due deliveries of `medium`, oldest first, locked until this transaction ends (other senders
    /// skip them). A batch: one claim and one record per round instead of per message.
    func claimDue(_ medium: Medium, limit: Int) throws -> [Delivery] {
        try db.query("""
            SELECT event_id, refund_id::text AS refund_id, address, title, body, attempts FROM deliveries
            WHERE medium = $1 AND state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT $2::int FOR UPDATE SKIP LOCKED
            """, [medium.rawValue, limit]).map { row in
            Delivery(eventId: try row.string("event_id"), medium: medium, refundId: try row.string("refund_id"),
                     address: try row.optionalString("address") ?? "", title: try row.string("title"),
                     body: try row.string("body"), attempts: try row.int("attempts"))
        }
    }

    /// What a sender did with one claimed delivery.
    struct Outcome {
        var delivery: Delivery
        /// `sent`, `refused` (the address, for good), `gave_up`, or `pending` (tried, to be tried again).
        var state: String
        var error: String?
        /// For `pending`: the pause before the next attempt.
        var retryAfterMillis: Int?
    }

    /// Records a batch's outcomes in one statement: each delivery's state, attempt and error, the pause of those to
    /// retry, and every refused address (so later deliveries to it are not attempted).
    func record(_ outcomes: [Outcome], medium: Medium) throws {
        guard !outcomes.isEmpty else { return }
        try db.deferred("""
            WITH o AS (
                SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                    AS o(event_id, state, last_error, retry_ms, address)),
            marked AS (
                UPDATE deliveries d SET state = o.state, attempts = d.attempts + 1, last_error = o.last_error,
                       sent_at = CASE WHEN o.state = 'sent' THEN now() ELSE d.sent_at END,
                       next_attempt_at = CASE WHEN o.retry_ms IS NULL THEN d.next_attempt_at
                                         ELSE now() + make_interval(secs => o.retry_ms::bigint / 1000.0) END
                FROM o WHERE d.event_id = o.event_id AND d.medium = $1
                RETURNING 1),
            refused AS (
                INSERT INTO refused_addresses (medium, address, reason)
                SELECT DISTINCT ON (o.address) $1, o.address, o.last_error FROM o WHERE o.state = 'refused'
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT (SELECT count(*) FROM marked) AS marked, (SELECT count(*) FROM refused) AS refused
            """, [medium.rawValue, PostgresArray.text(outcomes.map(\.delivery.eventId)),
                  PostgresArray.text(outcomes.map(\.state)), PostgresArray.text(outcomes.map(\.error)),
                  PostgresArray.text(outcomes.map { $0.retryAfterMillis.map(String.init) }),
                  PostgresArray.text(outcomes.map(\.delivery.address))])
    }
}
