import Foundation
import Postgres
import RefundModel

struct VerificationRecord {
    var requestId: UUID
    var supplierId: String
    var approved: RefundApproved
    var state: String
    var answerBy: Date
}

/// Every SQL statement of supplier verification.
struct RequestRepository {
    let db: PostgresConnection
    static let encoder = MessageCoding.encoder()
    static let decoder = MessageCoding.decoder()

    func insert(requestId: UUID, approved: RefundApproved, answerBy: Date) throws -> Bool {
        try db.execute("""
            INSERT INTO requests (request_id, refund_id, supplier_id, approved, state, answer_by)
            VALUES ($1::uuid, $2::uuid, $3, $4::jsonb, 'waiting', $5::timestamptz) ON CONFLICT DO NOTHING
            """, [requestId, approved.refundId.rawValue, approved.supplierId,
                  String(decoding: try Self.encoder.encode(approved), as: UTF8.self), answerBy]) == 1
    }

    func load(requestId: UUID) throws -> VerificationRecord? {
        try one("WHERE request_id = $1::uuid", requestId)
    }

    func load(refundId: RefundID) throws -> VerificationRecord? {
        try one("WHERE refund_id = $1::uuid", refundId.rawValue)
    }

    private func one(_ condition: String, _ key: UUID) throws -> VerificationRecord? {
        guard let row = try db.query("""
            SELECT request_id, supplier_id, approved::text AS approved, state, answer_by FROM requests \(condition)
            FOR UPDATE
            """, [key]).first else { return nil }
        return VerificationRecord(
            requestId: try row.uuid("request_id"), supplierId: try row.string("supplier_id"),
            approved: try Self.decoder.decode(RefundApproved.self, from: Data(try row.string("approved").utf8)),
            state: try row.string("state"), answerBy: try row.date("answer_by"))
    }

    /// Compare-and-set on the request's state; false when something else settled it first.
    func settle(_ id: UUID, from: String, to: String, answer: VerificationReply? = nil) throws -> Bool {
        try db.execute("""
            UPDATE requests SET state = $3, answer = coalesce($4::jsonb, answer),
                   answered_at = CASE WHEN $4::jsonb IS NULL THEN answered_at ELSE now() END
            WHERE request_id = $1::uuid AND state = $2
            """, [id, from, to, try answer.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }]) == 1
    }

    enum Counter: String {
        case inTime = "answered_in_time"
        case late = "answered_late"
        case silent
        case disputesLost = "disputes_lost"
        case refused
    }

    func count(_ supplier: String, _ counter: Counter) throws {
        try db.deferred("""
            INSERT INTO supplier_stats (supplier_id, \(counter.rawValue)) VALUES ($1, 1)
            ON CONFLICT (supplier_id) DO UPDATE SET \(counter.rawValue) = supplier_stats.\(counter.rawValue) + 1
            """, [supplier])
    }

    func chargeDeposit(_ supplier: String, refund: RefundID, amount: Money, cause: String) throws {
        try db.deferred("""
            INSERT INTO deposit_ledger (supplier_id, refund_id, amount_fen, currency, cause)
            VALUES ($1, $2::uuid, $3::bigint, $4, $5) ON CONFLICT DO NOTHING
            """, [supplier, refund.rawValue, amount.minorUnits, amount.currency.code, cause])
    }

    /// One supplier's record as it stands (what intake shows beside its refund rate).
    func record(_ supplier: String) throws -> SupplierRecord {
        let row = try db.query("""
            SELECT coalesce(s.answered_in_time, 0) AS in_time, coalesce(s.answered_late, 0) AS late,
                   coalesce(s.silent, 0) AS silent, coalesce(s.disputes_lost, 0) AS lost,
                   coalesce(s.refused, 0) AS refused,
                   coalesce((SELECT sum(amount_fen) FROM deposit_ledger d WHERE d.supplier_id = $1), 0)::bigint AS charged
            FROM (SELECT $1::text AS supplier_id) k LEFT JOIN supplier_stats s ON s.supplier_id = k.supplier_id
            """, [supplier])[0]
        return SupplierRecord(supplierId: supplier, answeredInTime: try row.int("in_time"),
                              answeredLate: try row.int("late"), silent: try row.int("silent"),
                              disputesLost: try row.int("lost"), depositChargedFen: try row.int64("charged"),
                              refusedReplies: try row.int("refused"))
    }

    /// Counters and deposit charges per supplier, for the `stats` command.
    func stats() throws -> [[String: Any]] {
        try db.query("""
            SELECT s.supplier_id, s.answered_in_time, s.answered_late, s.silent, s.disputes_lost, s.refused,
                   coalesce((SELECT sum(amount_fen) FROM deposit_ledger d WHERE d.supplier_id = s.supplier_id), 0)::bigint
                       AS deposit_charged_fen
            FROM supplier_stats s ORDER BY s.supplier_id
            """).map { row in
            ["supplierId": try row.string("supplier_id"), "answeredInTime": try row.int("answered_in_time"),
             "answeredLate": try row.int("answered_late"), "silent": try row.int("silent"),
             "disputesLost": try row.int("disputes_lost"), "refusedReplies": try row.int("refused"),
             "depositChargedFen": try row.int64("deposit_charged_fen")]
        }
    }
}
