import ArgumentParser
import Foundation
import Postgres
import RefundModel

/// `refundctl supplier stats`: each supplier's record as supplier-verification keeps it (answered in time, late,
/// silent, refused replies, disputes lost, deposit charged), beside its refund rate over 30 days from intake's
/// analytics: the two halves an operator weighs a supplier by.
struct SupplierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supplier", abstract: "Suppliers' records.", subcommands: [Stats.self])

    struct Record: Encodable {
        var supplierId: String
        var answeredInTime: Int
        var answeredLate: Int
        var silent: Int
        var refusedReplies: Int
        var disputesLost: Int
        var depositChargedFen: Int64
        var orders30d: Int
        var refunds30d: Int
        /// Refunds per 10,000 orders over 30 days.
        var refundRateBp: Int
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every supplier's record and 30-day refund rate.")
        @OptionGroup var target: Target
        @Flag(help: "JSON for scripts.") var json = false

        func run() throws {
            let db = try target.connect()
            defer { db.close() }
            let supplier = ServiceName.supplierVerification.schema, intake = ServiceName.intake.schema
            let records = try db.query("""
                SELECT s.supplier_id, s.answered_in_time, s.answered_late, s.silent, s.refused, s.disputes_lost,
                       coalesce((SELECT sum(amount_fen) FROM \(supplier).deposit_ledger d
                                 WHERE d.supplier_id = s.supplier_id), 0)::bigint AS deposit_charged_fen,
                       coalesce(r.orders, 0)::bigint AS orders, coalesce(r.refunds, 0)::bigint AS refunds
                FROM \(supplier).supplier_stats s
                LEFT JOIN (SELECT key, sum(orders) AS orders, sum(refunds) AS refunds FROM \(intake).rate_days
                           WHERE dimension = 'supplier' AND day > current_date - 30 GROUP BY key) r
                       ON r.key = s.supplier_id
                ORDER BY s.supplier_id
                """).map { row in
                let orders = try row.int("orders"), refunds = try row.int("refunds")
                return Record(supplierId: try row.string("supplier_id"), answeredInTime: try row.int("answered_in_time"),
                              answeredLate: try row.int("answered_late"), silent: try row.int("silent"),
                              refusedReplies: try row.int("refused"), disputesLost: try row.int("disputes_lost"),
                              depositChargedFen: try row.int64("deposit_charged_fen"), orders30d: orders,
                              refunds30d: refunds, refundRateBp: orders == 0 ? 0 : refunds * 10_000 / orders)
            }
            if json { return print(try Output.json(["suppliers": records])) }
            Output.table(["SUPPLIER", "IN TIME", "LATE", "SILENT", "REFUSED", "DISPUTES LOST", "DEPOSIT CHARGED",
                          "ORDERS 30D", "REFUNDS 30D", "RATE"], records.map {
                [$0.supplierId, String($0.answeredInTime), String($0.answeredLate), String($0.silent),
                 String($0.refusedReplies), String($0.disputesLost), Phrasebook.yuan(try! Money(minorUnits: $0.depositChargedFen)),
                 String($0.orders30d), String($0.refunds30d),
                 String(format: "%d.%02d%%", $0.refundRateBp / 100, $0.refundRateBp % 100)]
            })
        }
    }
}
