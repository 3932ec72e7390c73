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
    var accountNo: String?
    var expectedAt: Date?

    var isOpen: Bool { state == "pending" || state == "processing" }
}

/// What an order paid, as the marketplace said in its `order.placed` (payout's own record).
struct PaidOrder {
    var orderId: String
    var buyerId: String
    var paymentChannel: PaymentChannel
    var currency: Currency
    var totalPaidFen: Int64
    var linePaidFen: [String: Int64]
}

/// Every SQL statement of payout.
struct PayoutRepository {
    let db: PostgresConnection

    // MARK: Orders (the trusted caps)

    /// Records an order's paid amounts; false when it was known already (the first placement stands).
    func saveOrder(_ o: PaidOrder) throws -> Bool {
        let lines = String(decoding: try JSONEncoder().encode(o.linePaidFen), as: UTF8.self)
        return try db.execute("""
            INSERT INTO orders (order_id, buyer_id, payment_channel, currency, total_paid_fen, line_paid)
            VALUES ($1, $2, $3, $4, $5::bigint, $6::jsonb) ON CONFLICT DO NOTHING
            """, [o.orderId, o.buyerId, o.paymentChannel.rawValue, o.currency.code, o.totalPaidFen, lines]) == 1
    }

    /// The order, locked until commit: two instances checking refunds of one order take turns.
    func lockOrder(_ id: String) throws -> PaidOrder? {
        guard let row = try db.query("""
            SELECT order_id, buyer_id, payment_channel, currency, total_paid_fen, line_paid::text AS line_paid
            FROM orders WHERE order_id = $1 FOR UPDATE
            """, [id]).first else { return nil }
        guard let channel = PaymentChannel(rawValue: try row.string("payment_channel")),
              let currency = Currency(try row.string("currency")) else {
            throw PostgresError(.decode, "bad order row")
        }
        return PaidOrder(orderId: try row.string("order_id"), buyerId: try row.string("buyer_id"),
                         paymentChannel: channel, currency: currency, totalPaidFen: try row.int64("total_paid_fen"),
                         linePaidFen: try JSONDecoder().decode([String: Int64].self,
                                                               from: Data(try row.string("line_paid").utf8)))
    }

    /// Keeps a verified refund until its order is known.
    func wait(_ v: RefundVerified) throws {
        let json = String(decoding: try MessageCoding.encoder().encode(v), as: UTF8.self)
        try db.deferred("""
            INSERT INTO waiting_for_order (refund_id, order_id, verified) VALUES ($1::uuid, $2, $3::jsonb)
            ON CONFLICT DO NOTHING
            """, [v.approved.refundId.rawValue, v.approved.orderId, json])
    }

    /// Takes (removes) the refunds that were waiting for `orderId`.
    func takeWaiting(orderId: String) throws -> [RefundVerified] {
        try db.query("DELETE FROM waiting_for_order WHERE order_id = $1 RETURNING verified::text AS v", [orderId])
            .map { try MessageCoding.decoder().decode(RefundVerified.self, from: Data(try $0.string("v").utf8)) }
    }

    /// `callAt`: when the channel is first called (nil: never, e.g. the balance).
    func insert(_ v: RefundVerified, route: String, state: String, sendAt: Date, expectedAt: Date?,
                callAt: Date? = nil) throws -> Bool {
        let a = v.approved
        return try db.execute("""
            INSERT INTO payouts (refund_id, request_no, order_id, line_id, buyer_id, route, amount_fen, currency, state,
                                 send_at, expected_at, next_call_at)
            VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7::bigint, $8, $9, $10::timestamptz, $11::timestamptz,
                    $12::timestamptz)
            ON CONFLICT DO NOTHING
            """, [a.refundId.rawValue, UUID(), a.orderId, a.lineId, a.buyerId, route, v.amount.minorUnits,
                  v.amount.currency.code, state, sendAt, expectedAt, callAt]) == 1
    }

    /// What other payouts of the same order, and of its line `lineId` (the whole order when nil), took or are
    /// taking, in one round trip; failed ones moved no money.
    func committedFen(orderId: String, lineId: String?, except refund: RefundID) throws -> (line: Int64, order: Int64) {
        let row = try db.query("""
            SELECT coalesce(sum(amount_fen) FILTER (WHERE $2::text IS NULL OR line_id = $2), 0)::bigint AS line,
                   coalesce(sum(amount_fen), 0)::bigint AS total
            FROM payouts WHERE order_id = $1 AND refund_id <> $3::uuid AND state <> 'failed'
            """, [orderId, lineId, refund.rawValue]).first
        return (try row?.int64("line") ?? 0, try row?.int64("total") ?? 0)
    }

    private static let columns = """
        refund_id, request_no, order_id, buyer_id, route, amount_fen, currency, state, called, attempts, account_no,
        expected_at
        """

    func load(_ id: RefundID) throws -> PayoutRecord? {
        try db.query("SELECT \(Self.columns) FROM payouts WHERE refund_id = $1::uuid FOR UPDATE", [id.rawValue])
            .first.map(record)
    }

    func load(requestNo: UUID) throws -> PayoutRecord? {
        try db.query("SELECT \(Self.columns) FROM payouts WHERE request_no = $1::uuid FOR UPDATE", [requestNo])
            .first.map(record)
    }

    private func record(_ row: PostgresRow) throws -> PayoutRecord {
        PayoutRecord(
            refundId: RefundID(try row.string("refund_id"))!, requestNo: try row.string("request_no"),
            orderId: try row.string("order_id"), buyerId: try row.string("buyer_id"), route: try row.string("route"),
            amount: try Money(minorUnits: try row.int64("amount_fen"),
                              currency: Currency(try row.string("currency")) ?? .cny),
            state: try row.string("state"), called: try row.bool("called"), attempts: try row.int("attempts"),
            accountNo: try row.optionalString("account_no"), expectedAt: try row.optionalDate("expected_at"))
    }

    /// When a `ChannelCaller` should next call (or query) the channel for this payout; nil: no call is due.
    func scheduleCall(_ id: RefundID, at: Date?) throws {
        try db.deferred("UPDATE payouts SET next_call_at = $2::timestamptz WHERE refund_id = $1::uuid", [id.rawValue, at])
    }

    /// Claims up to `limit` payouts due for a channel call: marks them called and leases them for `leaseSeconds`
    /// (another caller takes one over only if this one dies mid-call), in one statement; the caller commits before
    /// calling. Returns each payout and whether it had been called before (then the channel is queried first).
    func claimCalls(leaseSeconds: Double, limit: Int) throws -> [(PayoutRecord, calledBefore: Bool)] {
        try db.query("""
            WITH due AS (
                SELECT refund_id, called FROM payouts
                WHERE next_call_at <= now() AND state IN ('pending', 'processing')
                ORDER BY next_call_at LIMIT $2::int FOR UPDATE SKIP LOCKED)
            UPDATE payouts p SET called = true, attempts = p.attempts + 1, updated_at = now(),
                   next_call_at = now() + make_interval(secs => $1::double precision)
            FROM due WHERE p.refund_id = due.refund_id
            RETURNING \(Self.returning), due.called AS called_before
            """, [String(leaseSeconds), limit]).map { row in (try record(row), try row.bool("called_before")) }
    }

    private static let returning = """
        p.refund_id, p.request_no, p.order_id, p.buyer_id, p.route, p.amount_fen, p.currency, p.state, p.called,
        p.attempts, p.account_no, p.expected_at
        """

    /// States only move forward: pending → processing → succeeded | failed, and failed → pending by a fallback.
    func setState(_ id: RefundID, _ state: String, lastStatus: String?, route: String? = nil) throws {
        try db.deferred("""
            UPDATE payouts SET state = $2, last_status = coalesce($3, last_status), route = coalesce($4, route),
                   updated_at = now() WHERE refund_id = $1::uuid
            """, [id.rawValue, state, lastStatus, route])
    }

    /// The request number `p` was called under is given up for another way of paying (`paidInstead`): kept, so that
    /// a channel confirming it later is recognised (`superseded(requestNo:)`).
    func supersede(_ p: PayoutRecord, paidInstead: String) throws {
        try db.deferred("""
            INSERT INTO superseded_requests (request_no, refund_id, channel, amount_fen, currency, paid_instead)
            VALUES ($1::uuid, $2::uuid, $3, $4::bigint, $5, $6) ON CONFLICT DO NOTHING
            """, [p.requestNo, p.refundId.rawValue, p.route, p.amount.minorUnits, p.amount.currency.code, paidInstead])
    }

    struct Superseded {
        var refundId: RefundID
        var channel: String?
        var amount: Money
        var paidInstead: String
    }

    func superseded(requestNo: UUID) throws -> Superseded? {
        try db.query("""
            SELECT refund_id::text AS refund_id, channel, amount_fen, currency, paid_instead FROM superseded_requests
            WHERE request_no = $1::uuid
            """, [requestNo]).first.map { r in
            Superseded(refundId: RefundID(try r.string("refund_id"))!, channel: try r.optionalString("channel"),
                       amount: try Money(minorUnits: try r.int64("amount_fen"),
                                         currency: Currency(try r.string("currency")) ?? .cny),
                       paidInstead: try r.string("paid_instead"))
        }
    }

    /// Records an incident once; false when it was already recorded (a channel's callback retried).
    func recordIncident(_ i: RefundIncident) throws -> Bool {
        try db.execute("""
            INSERT INTO incidents (request_no, kind, refund_id, channel, amount_fen, currency)
            VALUES ($1::uuid, $2, $3::uuid, $4, $5::bigint, $6) ON CONFLICT DO NOTHING
            """, [i.requestNo, i.kind.rawValue, i.refundId.rawValue, i.channel, i.amount.minorUnits,
                  i.amount.currency.code]) == 1
    }

    /// A fallback to a designated account: a new request number (the failed one is kept), called afresh.
    func retarget(_ id: RefundID, route: String, accountNo: String, sendAt: Date, expectedAt: Date) throws {
        try db.deferred("""
            UPDATE payouts SET failed_request_no = request_no, request_no = $2::uuid, route = $3, account_no = $4,
                   state = 'pending', called = false, attempts = 0, last_status = NULL, send_at = $5::timestamptz,
                   next_call_at = $5::timestamptz,
                   expected_at = $6::timestamptz, overdue_at = NULL, updated_at = now()
            WHERE refund_id = $1::uuid AND state = 'failed'
            """, [id.rawValue, UUID(), route, accountNo, sendAt, expectedAt])
    }

    func markOverdue(_ id: RefundID) throws {
        try db.deferred("UPDATE payouts SET overdue_at = now() WHERE refund_id = $1::uuid AND overdue_at IS NULL",
                     [id.rawValue])
    }

    func creditBalance(buyer: String, refund: RefundID, amount: Money) throws -> Bool {
        try db.execute("""
            INSERT INTO balance_ledger (buyer_id, refund_id, amount_fen, currency) VALUES ($1, $2::uuid, $3::bigint, $4)
            ON CONFLICT DO NOTHING
            """, [buyer, refund.rawValue, amount.minorUnits, amount.currency.code]) == 1
    }

    /// Records a verified callback; false when its nonce was seen before (a replay).
    func recordCallback(channel: String, nonce: String, requestNo: UUID, status: String, outcome: String) throws
        -> Bool {
        try db.execute("""
            INSERT INTO channel_callbacks (channel, nonce, request_no, status, outcome) VALUES ($1, $2, $3::uuid, $4, $5)
            ON CONFLICT DO NOTHING
            """, [channel, nonce, requestNo, status, outcome]) == 1
    }
}
