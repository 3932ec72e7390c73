import ArgumentParser
import Foundation
import Postgres
import RefundModel

/// `refundctl refund show ID`: one refund's whole story, read from every service's schema (each service keeps its
/// own part: the buyer's timeline, the review case, the supplier's request, the payout and its ledgers, the
/// notifications, and any dead letter that names it). Every value is masked as logs are.
struct RefundCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refund", abstract: "A refund across the services.", subcommands: [Show.self])

    /// One part of the story: a title, the columns shown, and the statement reading them (`$1` the refund id).
    struct Part {
        var title: String
        var columns: [String]
        var sql: String
    }

    static func parts() -> [Part] {
        let intake = ServiceName.intake.schema, review = ServiceName.autoReview.schema
        let supplier = ServiceName.supplierVerification.schema, payout = ServiceName.payout.schema
        let notification = ServiceName.notification.schema
        let deadLetters = ServiceName.allCases.map { s in
            """
            SELECT '\(s.schema)' AS schema, queue, type, reason, state, dead_lettered_at::text AS at FROM \(s.schema).dead_letters
            WHERE correlation_id = $1 OR envelope_id = $1 OR position(convert_to($1, 'UTF8') IN coalesce(body, '')) > 0
               OR position(convert_to(upper($1), 'UTF8') IN coalesce(body, '')) > 0
            """
        }.joined(separator: " UNION ALL ")
        return [
            Part(title: "intake: the refund", columns: ["state", "buyer_id", "order_id", "line_id", "reason", "amount_fen",
                                                       "currency", "preferred_route", "appealed", "created_at",
                                                       "expected_next_by", "overdue_since", "stuck_since", "incidents"],
                 sql: "SELECT * FROM \(intake).refunds WHERE refund_id = $1::uuid"),
            Part(title: "intake: timeline (what the buyer sees)", columns: ["at", "step", "actor", "rule", "explanation"],
                 sql: "SELECT * FROM \(intake).timeline WHERE refund_id = $1::uuid ORDER BY at, progress, id"),
            Part(title: "intake: follow-up tickets", columns: ["opened_at", "state", "reason", "answer", "closed_by"],
                 sql: "SELECT * FROM \(intake).tickets WHERE refund_id = $1::uuid"),
            Part(title: "auto-review: the case", columns: ["state", "rule", "outcome", "rejected_by", "applied_at", "updated_at"],
                 sql: """
                     SELECT state, decision->>'rule' AS rule, decision->>'outcome' AS outcome, rejected_by, applied_at,
                            updated_at FROM \(review).cases WHERE refund_id = $1::uuid
                     """),
            Part(title: "supplier-verification: the request", columns: ["supplier_id", "state", "answer", "answer_by",
                                                                        "answered_at", "request_id"],
                 sql: """
                     SELECT supplier_id, state, answer->>'answer' AS answer, answer_by, answered_at, request_id
                     FROM \(supplier).requests WHERE refund_id = $1::uuid
                     """),
            Part(title: "supplier-verification: deposit charges", columns: ["supplier_id", "amount_fen", "currency", "cause"],
                 sql: "SELECT * FROM \(supplier).deposit_ledger WHERE refund_id = $1::uuid"),
            Part(title: "payout: the payout", columns: ["route", "state", "amount_fen", "currency", "request_no", "called",
                                                       "attempts", "last_status", "account_no", "expected_at",
                                                       "next_call_at", "updated_at"],
                 sql: "SELECT * FROM \(payout).payouts WHERE refund_id = $1::uuid"),
            Part(title: "payout: superseded request numbers", columns: ["request_no", "channel", "amount_fen", "paid_instead",
                                                                       "superseded_at"],
                 sql: "SELECT * FROM \(payout).superseded_requests WHERE refund_id = $1::uuid"),
            Part(title: "payout: incidents", columns: ["kind", "channel", "amount_fen", "currency", "request_no", "detected_at"],
                 sql: "SELECT * FROM \(payout).incidents WHERE refund_id = $1::uuid"),
            Part(title: "payout: platform balance", columns: ["amount_fen", "currency", "created_at"],
                 sql: "SELECT * FROM \(payout).balance_ledger WHERE refund_id = $1::uuid"),
            Part(title: "notification: deliveries", columns: ["created_at", "step", "medium", "state", "attempts", "address",
                                                             "last_error", "sent_at"],
                 sql: "SELECT * FROM \(notification).deliveries WHERE refund_id = $1::uuid ORDER BY created_at, medium"),
            Part(title: "dead letters that name it", columns: ["schema", "queue", "type", "reason", "state", "at"],
                 sql: deadLetters),
        ]
    }

    struct Section: Encodable {
        var title: String
        var columns: [String]
        var rows: [[String: String]]
    }

    /// Reads every part; values as text, masked.
    static func story(_ refund: String, on db: PostgresConnection) throws -> [Section] {
        try parts().map { part in
            let rows = try db.query("SELECT * FROM (\(part.sql)) part", [refund]).map { row in
                var out: [String: String] = [:]
                for c in part.columns {
                    if let v = try? row.optionalString(c) { out[c] = PersonalData.mask(v) }
                }
                return out
            }
            return Section(title: part.title, columns: part.columns, rows: rows)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Everything every service holds about a refund (masked); exit 3 when none knows it.")
        @OptionGroup var target: Target
        @Flag(help: "JSON for scripts.") var json = false
        @Argument(help: "The refund id.") var refund: String

        func run() throws {
            guard let id = UUID(uuidString: refund) else { throw ValidationError("a refund id is a UUID") }
            let db = try target.connect()
            defer { db.close() }
            let sections = try RefundCommand.story(id.uuidString.lowercased(), on: db)
            guard sections.contains(where: { !$0.rows.isEmpty }) else {
                FileHandle.standardError.write(Data("refundctl: no service knows refund \(refund)\n".utf8))
                throw ExitCode(ExitStatus.notFound)
            }
            if json { return print(try Output.json(sections)) }
            for s in sections where !s.rows.isEmpty {
                print("== \(s.title)")
                Output.table(s.columns.map { $0.uppercased() },
                             s.rows.map { r in s.columns.map { String((r[$0] ?? "-").prefix(80)) } })
                print("")
            }
        }
    }
}
