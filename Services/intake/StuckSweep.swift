import Foundation
import Logging
import Postgres
import RefundModel
import StageRuntime

/// Nothing stuck (issue 12): finds refunds whose current step is one the system owes the next move on (pre-check,
/// supplier verification, payout), and that made no move for longer than its promise plus `STUCK_AFTER_SECONDS`
/// (15 min by default) — a dead-lettered message, a parked timer, a stage down — and raises each once: the buyer's
/// timeline says operations were alerted, reviewers get a ticket naming the step, the log a warning to alert on.
/// Steps that wait on the buyer (evidence, a fallback choice) or on people (manual review, appeals, disputes) have
/// their own promises: the review SLA timers and the buyer's follow-up tickets.
struct StuckSweep: BackgroundWork {
    let name = "stuck-sweep"
    /// The steps where only the system can move a refund on.
    static let systemSteps: [RefundState] = [.submitted, .approved, .supplierVerification, .processing]
    let afterSeconds: Double
    let everySeconds: Double

    func run(_ context: WorkContext) {
        context.everyRound(seconds: everySeconds, what: "stuck sweep") { conn in
            while !context.stop.isStopped, try raiseBatch(conn, context.logger) > 0 {}
        }
    }

    /// Raises up to 100 stuck refunds in one transaction; several intake instances skip each other's rows.
    func raiseBatch(_ db: PostgresConnection, _ logger: Logger) throws -> Int {
        let states: [String] = try db.transaction { db in
            let stuck = try db.query("""
                UPDATE refunds r SET stuck_since = now() FROM (
                    SELECT refund_id FROM refunds
                    WHERE state = ANY(string_to_array($1, ',')) AND stuck_since IS NULL
                      AND greatest(coalesce(state_at, created_at), expected_next_by)
                          < now() - make_interval(secs => $2::double precision)
                    ORDER BY coalesce(state_at, created_at) LIMIT 100 FOR UPDATE SKIP LOCKED) s
                WHERE r.refund_id = s.refund_id
                RETURNING r.refund_id, r.buyer_id, r.state, coalesce(r.state_at, r.created_at) AS state_at
                """, [Self.systemSteps.map(\.rawValue).joined(separator: ","), String(afterSeconds)])
            let refunds = RefundRepository(db: db), tickets = BuyerMessagesRepository(db: db)
            for row in stuck {
                let id = RefundID(try row.uuid("refund_id")), state = try row.string("state")
                let since = try row.date("state_at").ISO8601Format()
                try refunds.appendStep(id, step: "stuck_raised", at: Date(), actor: "system", rule: "R-STUCK",
                                       because: .init(.stuckAlerted, ["state": state, "at": since]))
                _ = try tickets.openTicket(UUID(), refund: id, buyerId: try row.string("buyer_id"),
                                           reason: "stuck: \(state) since \(since) with no next step (R-STUCK)", note: nil)
                logger.warning("refund stuck", metadata: ["refund": "\(id)", "state": "\(state)", "since": "\(since)"])
            }
            return try stuck.map { try $0.string("state") }
        }
        // Counted once committed: the metric an alert on stuck refunds watches.
        for state in states { StageMetrics.stuckRaised(step: state) }
        return states.count
    }
}
