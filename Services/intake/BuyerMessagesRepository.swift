import Foundation
import Postgres
import RefundModel

struct TicketRecord: Encodable, Sendable {
    var id: String
    var refundId: String
    var reason: String
    var note: String?
    var state: String
    var openedAt: Date
    var closedAt: Date?
    var answer: String?
}

/// Every SQL statement of the buyer's in-app messages (站内信) and the follow-up tickets. ("Inbox" is the runtime's
/// table of handled message ids, never this.)
struct BuyerMessagesRepository {
    let db: PostgresConnection

    func saveMessage(_ m: InAppMessage) throws {
        try db.deferred("""
            INSERT INTO messages (message_id, buyer_id, refund_id, step, title, body, locale, at)
            VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8::timestamptz) ON CONFLICT DO NOTHING
            """, [m.messageId, m.buyerId, m.refundId.rawValue, m.step.rawValue, m.title, m.body, m.locale.rawValue, m.at])
    }

    func messages(buyerId: String, limit: Int) throws -> [[String: String]] {
        let f = ISO8601DateFormatter()
        return try db.query("""
            SELECT message_id, refund_id::text AS refund_id, step, title, body, locale, at FROM messages
            WHERE buyer_id = $1 ORDER BY at DESC, received_at DESC LIMIT $2::int
            """, [buyerId, limit]).map {
            ["id": try $0.string("message_id"), "refundId": try $0.string("refund_id"), "step": try $0.string("step"),
             "title": try $0.string("title"), "body": try $0.string("body"), "locale": try $0.string("locale"),
             "at": f.string(from: try $0.date("at"))]
        }
    }

    /// When the refund entered its current state (the latest timeline step of that name).
    func enteredState(_ id: RefundID, state: RefundState) throws -> Date? {
        try db.query("SELECT max(at) AS at FROM timeline WHERE refund_id = $1::uuid AND step = $2",
                     [id.rawValue, state.rawValue])[0].optionalDate("at")
    }

    /// False when the refund already has an open ticket.
    func openTicket(_ id: UUID, refund: RefundID, buyerId: String, reason: String, note: String?) throws -> Bool {
        try db.execute("""
            INSERT INTO tickets (ticket_id, refund_id, buyer_id, reason, note, state) VALUES ($1::uuid, $2::uuid, $3, $4, $5, 'open')
            ON CONFLICT DO NOTHING
            """, [id, refund.rawValue, buyerId, reason, note]) == 1
    }

    func ticket(_ id: UUID, forUpdate: Bool = false) throws -> TicketRecord? {
        try db.query("""
            SELECT ticket_id::text AS id, refund_id::text AS refund_id, reason, note, state, opened_at, closed_at, answer
            FROM tickets WHERE ticket_id = $1::uuid \(forUpdate ? "FOR UPDATE" : "")
            """, [id]).first.map(record)
    }

    func openTickets() throws -> [TicketRecord] {
        try db.query("""
            SELECT ticket_id::text AS id, refund_id::text AS refund_id, reason, note, state, opened_at, closed_at, answer
            FROM tickets WHERE state = 'open' ORDER BY opened_at
            """).map(record)
    }

    func closeTicket(_ id: UUID, by reviewer: String, answer: String) throws {
        try db.query("""
            UPDATE tickets SET state = 'closed', closed_at = now(), closed_by = $2, answer = $3 WHERE ticket_id = $1::uuid
            """, [id, reviewer, answer])
    }

    private func record(_ row: PostgresRow) throws -> TicketRecord {
        TicketRecord(id: try row.string("id"), refundId: try row.string("refund_id"), reason: try row.string("reason"),
                     note: try row.optionalString("note"), state: try row.string("state"),
                     openedAt: try row.date("opened_at"), closedAt: try row.optionalDate("closed_at"),
                     answer: try row.optionalString("answer"))
    }
}
