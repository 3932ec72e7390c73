import Foundation
import Postgres
import RefundModel

/// A review case as stored.
struct ReviewCase {
    var refundId: RefundID
    var buyerId: String
    var state: RefundState
    var application: RefundApplied
    var decision: PreCheckDecision?
    var rejectedBy: String?
}

/// Every SQL statement of auto-review.
struct CaseRepository {
    let db: PostgresConnection
    private let encoder = MessageCoding.encoder()
    private let decoder = MessageCoding.decoder()

    func insert(_ a: RefundApplied) throws -> Bool {
        try db.execute("""
            INSERT INTO cases (refund_id, buyer_id, state, application, applied_at)
            VALUES ($1::uuid, $2, $3, $4::jsonb, $5::timestamptz) ON CONFLICT DO NOTHING
            """, [a.refundId.rawValue, a.order.buyerId, RefundState.submitted.rawValue, try json(a), a.appliedAt]) == 1
    }

    /// Locks the case for the rest of the transaction, so a timer and a message cannot decide it together.
    func load(_ id: RefundID) throws -> ReviewCase? {
        guard let row = try db.query("""
            SELECT refund_id, buyer_id, state, application::text AS application, decision::text AS decision,
                   rejected_by FROM cases WHERE refund_id = $1::uuid FOR UPDATE
            """, [id.rawValue]).first else { return nil }
        guard let state = RefundState(rawValue: try row.string("state")) else {
            throw PostgresError(.decode, "unknown state")
        }
        return ReviewCase(
            refundId: id, buyerId: try row.string("buyer_id"), state: state,
            application: try decoder.decode(RefundApplied.self, from: Data(try row.string("application").utf8)),
            decision: try row.optionalString("decision").map {
                try decoder.decode(PreCheckDecision.self, from: Data($0.utf8))
            },
            rejectedBy: try row.optionalString("rejected_by"))
    }

    /// Compare-and-set: moves the case only if it is still in `from`; false when something else moved it first.
    func move(_ c: ReviewCase, from: RefundState, to: RefundState, allowSame: Bool = false) throws -> Bool {
        if !(allowSame && from == to) { _ = try from.moving(to: to) }
        return try db.execute("""
            UPDATE cases SET state = $3, application = $4::jsonb, decision = $5::jsonb, rejected_by = $6,
                   updated_at = now()
            WHERE refund_id = $1::uuid AND state = $2
            """, [c.refundId.rawValue, from.rawValue, to.rawValue, try json(c.application),
                  try c.decision.map(json), c.rejectedBy]) == 1
    }

    func history(buyerId: String, at: Date, settings: PolicySettings) throws -> BuyerHistory {
        let row = try db.query("""
            SELECT count(*) FILTER (WHERE applied_at > $2::timestamptz) AS recent,
                   count(*) FILTER (WHERE applied_at > $3::timestamptz AND state IN ('rejected', 'rejected_final'))
                       AS rejections
            FROM cases WHERE buyer_id = $1
            """, [buyerId, at.addingTimeInterval(-settings.riskWindow), at.addingTimeInterval(-settings.standingWindow)])[0]
        return BuyerHistory(applicationsInRiskWindow: try row.int("recent"),
                            rejectionsInStandingWindow: try row.int("rejections"))
    }

    private func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
}
