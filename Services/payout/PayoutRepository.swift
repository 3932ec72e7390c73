import Foundation
import Postgres
import RefundModel

struct PayoutRecord {
    var refundId: RefundID
    var requestNo: String
    var orderId: String
    var buyerId: String
    var route: String
    var amount: Money
    var state: String
    var called: Bool
    var attempts: Int
}

/// Every SQL statement of payout.
struct PayoutRepository {
    let db: PostgresConnection

    func insert(_ v: RefundVerified, route: String, state: String, expectedAt: Date?) throws -> Bool {
        let a = v.approved
        return try db.execute("""
            INSERT INTO payouts (refund_id, request_no, order_id, line_id, buyer_id, route, amount_fen, currency, state,
                                 expected_at)
            VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7::bigint, $8, $9, $10::timestamptz) ON CONFLICT DO NOTHING
            """, [a.refundId.rawValue, UUID(), a.orderId, a.lineId, a.buyerId, route, v.amount.minorUnits,
                  v.amount.currency.code, state, expectedAt]) == 1
    }

    /// What other payouts of the same order line took or are taking (failed ones moved no money).
    func committedFen(orderId: String, lineId: String, except refund: RefundID) throws -> Int64 {
        try db.query("""
            SELECT coalesce(sum(amount_fen), 0)::bigint AS n FROM payouts
            WHERE order_id = $1 AND line_id = $2 AND refund_id <> $3::uuid AND state <> 'failed'
            """, [orderId, lineId, refund.rawValue])[0].int64("n")
    }

    func load(_ id: RefundID) throws -> PayoutRecord? {
        guard let row = try db.query("""
            SELECT refund_id, request_no, order_id, buyer_id, route, amount_fen, currency, state, called, attempts
            FROM payouts WHERE refund_id = $1::uuid FOR UPDATE
            """, [id.rawValue]).first else { return nil }
        return PayoutRecord(
            refundId: id, requestNo: try row.string("request_no"), orderId: try row.string("order_id"),
            buyerId: try row.string("buyer_id"), route: try row.string("route"),
            amount: try Money(minorUnits: try row.int64("amount_fen"),
                              currency: Currency(try row.string("currency")) ?? .cny),
            state: try row.string("state"), called: try row.bool("called"), attempts: try row.int("attempts"))
    }

    func markCalled(_ id: RefundID) throws {
        try db.query("UPDATE payouts SET called = true, attempts = attempts + 1, updated_at = now() "
            + "WHERE refund_id = $1::uuid", [id.rawValue])
    }

    /// States only move forward: pending → processing → succeeded | failed, and failed → succeeded by a fallback.
    func setState(_ id: RefundID, _ state: String, lastStatus: String?, route: String? = nil) throws {
        try db.query("""
            UPDATE payouts SET state = $2, last_status = coalesce($3, last_status), route = coalesce($4, route),
                   updated_at = now() WHERE refund_id = $1::uuid
            """, [id.rawValue, state, lastStatus, route])
    }

    func creditBalance(buyer: String, refund: RefundID, amount: Money) throws -> Bool {
        try db.execute("""
            INSERT INTO balance_ledger (buyer_id, refund_id, amount_fen, currency) VALUES ($1, $2::uuid, $3::bigint, $4)
            ON CONFLICT DO NOTHING
            """, [buyer, refund.rawValue, amount.minorUnits, amount.currency.code]) == 1
    }
}
