import Foundation
import Logging
import Postgres
import RefundModel
import StageRuntime

/// Folds the rate events that orders and applications appended (`RefundRates`) into the daily rows, then judges each
/// product and supplier that got refunds, flagging it on the latest of them. One intake instance sweeps at a time
/// (a transaction-scoped advisory lock; the others skip the round), so the daily rows are written by one transaction
/// at a time and never deadlock; events and their counts leave and land in the same transaction.
struct RateSweep: BackgroundWork {
    let name = "rate-sweep"
    let everySeconds: Double
    static let batch = 5_000

    func run(_ context: WorkContext) {
        context.everyRound(seconds: everySeconds, what: "rate sweep") { conn in
            while !context.stop.isStopped, try fold(conn, context.logger) == Self.batch {}
        }
    }

    /// Folds up to `batch` events; returns how many it took.
    func fold(_ db: PostgresConnection, _ logger: Logger) throws -> Int {
        let (taken, flagged): (Int, [String]) = try db.transaction { db in
            guard try db.query("SELECT pg_try_advisory_xact_lock(hashtextextended('intake:rate-sweep', 0)) AS got")[0]
                .bool("got") else { return (0, []) }
            let refunds = try db.query("""
                WITH taken AS (
                    DELETE FROM rate_events WHERE id IN (SELECT id FROM rate_events ORDER BY id LIMIT $1::int)
                    RETURNING *),
                counts AS (
                    SELECT 'product' AS dimension, product AS key, day, sum(orders) AS o, sum(refunds) AS r
                    FROM taken GROUP BY product, day
                    UNION ALL SELECT 'supplier', supplier, day, sum(orders), sum(refunds) FROM taken GROUP BY supplier, day
                    UNION ALL SELECT 'reason', reason, day, 0, sum(refunds) FROM taken WHERE reason IS NOT NULL
                    GROUP BY reason, day
                    UNION ALL SELECT 'all', '*', day, sum(orders), sum(refunds) FROM taken GROUP BY day),
                -- Unreferenced, and still run: PostgreSQL carries out every data-modifying WITH to completion.
                folded AS (
                    INSERT INTO rate_days (dimension, key, day, orders, refunds)
                    SELECT dimension, key, day, o, r FROM counts ORDER BY dimension, key, day
                    ON CONFLICT (dimension, key, day) DO UPDATE
                    SET orders = rate_days.orders + EXCLUDED.orders, refunds = rate_days.refunds + EXCLUDED.refunds)
                SELECT (SELECT count(*) FROM taken) AS taken, t.id, t.product, t.supplier, t.refund_id, t.buyer_id
                FROM (SELECT 1) one LEFT JOIN taken t ON t.refund_id IS NOT NULL
                ORDER BY t.id
                """, [Self.batch])
            let taken = try refunds.first?.int("taken") ?? 0
            // The judging reads the daily rows this statement wrote (a later statement of the same transaction).
            var latest: [String: [String: (RefundID, String)]] = ["product": [:], "supplier": [:]]
            for row in refunds where try !row.isNull("refund_id") {
                let refund = (RefundID(try row.uuid("refund_id")), try row.string("buyer_id"))
                latest["product"]![try row.string("product")] = refund
                latest["supplier"]![try row.string("supplier")] = refund
            }
            let rates = RefundRates(db: db)
            // The platform's baseline once per sweep, not once per key judged.
            let platform = latest.values.allSatisfy(\.isEmpty) ? nil : try rates.platformBaseline()
            var flagged: [String] = []
            for dimension in ["product", "supplier"] {
                for (key, (refund, buyer)) in latest[dimension]!.sorted(by: { $0.key < $1.key }) {
                    if let platform,
                       try rates.judge(dimension, key, platform: platform, refund: refund, buyerId: buyer, logger: logger) {
                        flagged.append(dimension)
                    }
                }
            }
            return (taken, flagged)
        }
        // Counted once committed: a rolled-back sweep flags nothing.
        for dimension in flagged { StageMetrics.rateFlagged(dimension: dimension) }
        return taken
    }
}
