import Foundation
import Logging
import Postgres
import RefundModel
import StageRuntime

/// Refund rates by product, supplier and reason (DOMAIN.md §7), kept incrementally: each order line placed and each
/// refund applied for adds one to a daily row (`rate_days`), counted on the day the order was placed (a cohort), so
/// a window's rate is refunds over the orders they came from, read from at most a month of daily rows per key — never
/// by scanning refunds. A product or supplier whose recent rate rises abnormally against its own baseline
/// (`RateSpike`) is flagged once a day (`rate_flags`) and a reviewer ticket is opened on the refund that tipped it.
///
/// Why in two steps: the request or message that causes a count only appends one `rate_events` row (a plain insert,
/// no lock on anyone's row), and `RateSweep` folds the events into the daily rows every few seconds and judges the
/// keys that got refunds. Counting in place meant every order and application of a popular product queued on that
/// product's row lock, inside intake's transactions (a third of the burst throughput, BENCHMARKS.md fifth session).
/// The event is still written in the transaction that causes it, so nothing is counted that did not happen.
struct RefundRates {
    let db: PostgresConnection
    static let rule = RateSpike()

    /// The product a line is counted under: the marketplace's product id, or its kind and supplier when it sends none.
    static func productKey(_ line: OrderLineFacts) -> String {
        line.productId ?? "\(line.productKind.rawValue)@\(line.supplierId)"
    }

    static func day(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
    }

    /// An order placed for the first time: one order per line for its product and supplier (and the platform's),
    /// in one statement.
    func orderPlaced(_ order: OrderFacts) throws {
        let day = Self.day(order.placedAt)
        var params: [PostgresBindable?] = [day]
        let rows = order.lines.map { line -> String in
            params.append(Self.productKey(line))
            params.append(line.supplierId)
            return "($1::date, $\(params.count - 1), $\(params.count), NULL, 1, 0, NULL, NULL)"
        }
        try db.deferred("""
            INSERT INTO rate_events (day, product, supplier, reason, orders, refunds, refund_id, buyer_id)
            VALUES \(rows.joined(separator: ", "))
            """, params)
    }

    /// A refund applied for, counted on its order's day; `RateSweep` judges its product and supplier.
    func refundApplied(_ refund: RefundID, order: OrderFacts, line: OrderLineFacts, reason: RefundReason,
                       buyerId: String) throws {
        try db.deferred("""
            INSERT INTO rate_events (day, product, supplier, reason, orders, refunds, refund_id, buyer_id)
            VALUES ($1::date, $2, $3, $4, 0, 1, $5::uuid, $6)
            """, [Self.day(order.placedAt), Self.productKey(line), line.supplierId, reason.rawValue, refund.rawValue,
                  buyerId])
    }

    /// Judges a product or supplier that just got refunds: flagged once a day, with a reviewer ticket on `refund`.
    /// Returns whether it was flagged now.
    func judge(_ dimension: String, _ key: String, platform: RateSpike.Counts, refund: RefundID, buyerId: String,
               logger: Logger) throws -> Bool {
        let today = Self.day(Date())
        let w = try windows(dimension, key, today: today)
        let verdict = Self.rule.judge(recent: w.recent, baseline: w.baseline, platform: platform)
        guard verdict.flagged else { return false }
        let new = try db.execute("""
            INSERT INTO rate_flags (dimension, key, day, orders, refunds, baseline_rate, p_value, refund_id)
            VALUES ($1, $2, $3::date, $4::int, $5::int, $6::double precision, $7::double precision, $8::uuid)
            ON CONFLICT DO NOTHING
            """, [dimension, key, today, w.recent.orders, w.recent.refunds, String(verdict.baselineRate),
                  String(verdict.pValue), refund.rawValue]) == 1
        guard new else { return false }
        let pct = { (r: Double) in String(format: "%.1f%%", r * 100) }
        _ = try BuyerMessagesRepository(db: db).openTicket(
            UUID(), refund: refund, buyerId: buyerId,
            reason: "refund rate of \(dimension) \(key) rose to \(pct(w.recent.rate)) (\(w.recent.refunds) of "
                + "\(w.recent.orders) orders in \(Self.rule.recentDays) days) against \(pct(verdict.baselineRate)) "
                + "before (binomial p = \(String(format: "%.2g", verdict.pValue))) (R-RATE-SPIKE)",
            note: nil)
        logger.warning("refund rate flagged", metadata: [
            "dimension": "\(dimension)", "key": "\(key)", "rate": "\(pct(w.recent.rate))",
            "baseline": "\(pct(verdict.baselineRate))",
        ])
        return true
    }

    /// The whole platform's baseline: what a key with little history of its own is judged against.
    func platformBaseline() throws -> RateSpike.Counts { try windows("all", nil, today: Self.day(Date())).baseline }

    /// The recent window (the last `recentDays` days, today included) and the baseline before it.
    private func windows(_ dimension: String, _ key: String?, today: String) throws
        -> (recent: RateSpike.Counts, baseline: RateSpike.Counts) {
        let recent = Self.rule.recentDays, span = Self.rule.recentDays + Self.rule.baselineDays
        let r = try db.query("""
            SELECT coalesce(sum(orders) FILTER (WHERE day > $3::date - $4::int), 0)::bigint AS recent_orders,
                   coalesce(sum(refunds) FILTER (WHERE day > $3::date - $4::int), 0)::bigint AS recent_refunds,
                   coalesce(sum(orders) FILTER (WHERE day <= $3::date - $4::int), 0)::bigint AS base_orders,
                   coalesce(sum(refunds) FILTER (WHERE day <= $3::date - $4::int), 0)::bigint AS base_refunds
            FROM rate_days WHERE dimension = $1 AND ($2::text IS NULL OR key = $2) AND day > $3::date - $5::int
              AND day <= $3::date
            """, [dimension, key, today, recent, span])[0]
        return (RateSpike.Counts(orders: try r.int("recent_orders"), refunds: try r.int("recent_refunds")),
                RateSpike.Counts(orders: try r.int("base_orders"), refunds: try r.int("base_refunds")))
    }

    /// A supplier's record, merged field by field (the largest count wins).
    func supplierRecord(_ r: SupplierRecord) throws {
        try db.deferred("""
            INSERT INTO supplier_records (supplier_id, answered_in_time, answered_late, silent, disputes_lost,
                                          deposit_charged_fen, refused_replies)
            VALUES ($1, $2::int, $3::int, $4::int, $5::int, $6::bigint, $7::int)
            ON CONFLICT (supplier_id) DO UPDATE SET
                answered_in_time = greatest(supplier_records.answered_in_time, EXCLUDED.answered_in_time),
                answered_late = greatest(supplier_records.answered_late, EXCLUDED.answered_late),
                silent = greatest(supplier_records.silent, EXCLUDED.silent),
                disputes_lost = greatest(supplier_records.disputes_lost, EXCLUDED.disputes_lost),
                deposit_charged_fen = greatest(supplier_records.deposit_charged_fen, EXCLUDED.deposit_charged_fen),
                refused_replies = greatest(supplier_records.refused_replies, EXCLUDED.refused_replies),
                updated_at = now()
            """, [r.supplierId, r.answeredInTime, r.answeredLate, r.silent, r.disputesLost, r.depositChargedFen,
                  r.refusedReplies ?? 0])
    }

    // MARK: - What reviewers read

    struct Window: Encodable {
        var orders: Int
        var refunds: Int
        /// Refunds per 10,000 orders.
        var rateBp: Int
        init(orders: Int, refunds: Int) {
            self.orders = orders
            self.refunds = refunds
            rateBp = orders == 0 ? 0 : refunds * 10_000 / orders
        }
    }

    struct Flag: Encodable {
        var day: String
        var orders: Int
        var refunds: Int
        var baselineRateBp: Int
        var pValue: Double
        var flaggedAt: Date
    }

    struct Row: Encodable {
        var key: String
        var day: Window
        var week: Window
        var days30: Window
        var flag: Flag?
        /// Suppliers only: its record beside its rate.
        var record: SupplierRecord?
    }

    /// Every key with orders or refunds in the last 30 days, most refunds first; reasons are rated against all
    /// orders. With the latest flag of each key in that time.
    func report(dimension: String) throws -> [Row] {
        let today = Self.day(Date())
        let totals = dimension == "reason" ? try db.query("""
            SELECT coalesce(sum(orders) FILTER (WHERE day = $1::date), 0)::bigint AS d,
                   coalesce(sum(orders) FILTER (WHERE day > $1::date - 7), 0)::bigint AS w,
                   coalesce(sum(orders), 0)::bigint AS m
            FROM rate_days WHERE dimension = 'all' AND day > $1::date - 30 AND day <= $1::date
            """, [today]).first : nil
        let flags = Dictionary(try db.query("""
            SELECT DISTINCT ON (key) key, day::text AS day, orders, refunds, baseline_rate, p_value, flagged_at
            FROM rate_flags WHERE dimension = $1 AND day > $2::date - 30 ORDER BY key, day DESC
            """, [dimension, today]).map { r in
            (try r.string("key"), Flag(day: try r.string("day"), orders: try r.int("orders"),
                                       refunds: try r.int("refunds"),
                                       baselineRateBp: Int((Double(try r.string("baseline_rate")) ?? 0) * 10_000),
                                       pValue: Double(try r.string("p_value")) ?? 1, flaggedAt: try r.date("flagged_at")))
        }) { a, _ in a }
        let records = dimension != "supplier" ? [:] : Dictionary(try db.query("""
            SELECT supplier_id, answered_in_time, answered_late, silent, disputes_lost, deposit_charged_fen,
                   refused_replies
            FROM supplier_records
            """).map { r in
            (try r.string("supplier_id"), SupplierRecord(
                supplierId: try r.string("supplier_id"), answeredInTime: try r.int("answered_in_time"),
                answeredLate: try r.int("answered_late"), silent: try r.int("silent"),
                disputesLost: try r.int("disputes_lost"), depositChargedFen: try r.int64("deposit_charged_fen"),
                refusedReplies: try r.int("refused_replies")))
        }) { a, _ in a }
        return try db.query("""
            SELECT key,
                   coalesce(sum(orders) FILTER (WHERE day = $2::date), 0)::bigint AS d_orders,
                   coalesce(sum(refunds) FILTER (WHERE day = $2::date), 0)::bigint AS d_refunds,
                   coalesce(sum(orders) FILTER (WHERE day > $2::date - 7), 0)::bigint AS w_orders,
                   coalesce(sum(refunds) FILTER (WHERE day > $2::date - 7), 0)::bigint AS w_refunds,
                   sum(orders)::bigint AS m_orders, sum(refunds)::bigint AS m_refunds
            FROM rate_days WHERE dimension = $1 AND day > $2::date - 30 AND day <= $2::date
            GROUP BY key ORDER BY sum(refunds) DESC, key LIMIT 500
            """, [dimension, today]).map { r in
            func w(_ o: String, _ f: String, total: String) throws -> Window {
                Window(orders: try totals.map { try $0.int(total) } ?? r.int(o), refunds: try r.int(f))
            }
            let key = try r.string("key")
            return Row(key: key, day: try w("d_orders", "d_refunds", total: "d"),
                       week: try w("w_orders", "w_refunds", total: "w"),
                       days30: try w("m_orders", "m_refunds", total: "m"), flag: flags[key], record: records[key])
        }
    }
}
