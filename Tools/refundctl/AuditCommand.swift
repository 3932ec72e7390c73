import ArgumentParser
import ChannelSigning
import Foundation
import Postgres

/// `refundctl audit`: the append-only record of every refund step (audit.refund_steps, made by the provisioning;
/// DOMAIN.md §7). `verify` recomputes each refund's hash chain here, independently of the database's own function.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit record: show a refund's steps, verify the hash chains.",
        subcommands: [Show.self, Verify.self])

    /// Exit status when a chain is broken.
    static let broken: Int32 = 6

    struct Record {
        var seq: Int64
        var refundId: String
        var atEpoch: String
        var at: Date
        var step: String
        var actor: String
        var rule: String?
        var reason: String?
        var recordedBy: String
        var prevHash: String
        var hash: String

        /// The chain's rule, as the provisioning states it: sha256 of the fields joined by U+001F.
        func expectedHash(after prev: String) -> String {
            let text = [prev, refundId, atEpoch, step, actor, rule ?? "", reason ?? ""].joined(separator: "\u{1F}")
            return Digests.hex(Digests.sha256(Array(text.utf8)))
        }
    }

    static func records(refund: String?, on db: PostgresConnection) throws -> [Record] {
        try db.query("""
            SELECT seq, refund_id::text AS refund_id, extract(epoch FROM at)::text AS at_epoch, at, step, actor, rule,
                   reason, recorded_by, prev_hash, hash
            FROM audit.refund_steps WHERE $1::uuid IS NULL OR refund_id = $1::uuid ORDER BY refund_id, seq
            """, [refund]).map {
            Record(seq: try $0.int64("seq"), refundId: try $0.string("refund_id"), atEpoch: try $0.string("at_epoch"),
                   at: try $0.date("at"), step: try $0.string("step"), actor: try $0.string("actor"),
                   rule: try $0.optionalString("rule"), reason: try $0.optionalString("reason"),
                   recordedBy: try $0.string("recorded_by"), prevHash: try $0.string("prev_hash"),
                   hash: try $0.string("hash"))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A refund's audit records, oldest first.")
        @OptionGroup var target: Target
        @Argument(help: "The refund id.") var refund: String

        func run() throws {
            guard UUID(uuidString: refund) != nil else { throw ValidationError("a refund id is a UUID") }
            let db = try target.connect()
            defer { db.close() }
            let rows = try AuditCommand.records(refund: refund, on: db)
            guard !rows.isEmpty else {
                FileHandle.standardError.write(Data("refundctl: no audit record for \(refund)\n".utf8))
                throw ExitCode(ExitStatus.notFound)
            }
            Output.table(["SEQ", "AT", "STEP", "ACTOR", "RULE", "REASON", "BY", "HASH"], rows.map {
                [String($0.seq), Output.time($0.at), $0.step, $0.actor, $0.rule ?? "-",
                 String(($0.reason ?? "-").prefix(60)), $0.recordedBy, String($0.hash.prefix(12))]
            })
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every refund's hash chain (or one refund's); exit 6 when a record was changed.")
        @OptionGroup var target: Target
        @Option(help: "Only this refund.") var refund: String?

        func run() throws {
            if let refund, UUID(uuidString: refund) == nil { throw ValidationError("a refund id is a UUID") }
            let db = try target.connect()
            defer { db.close() }
            var breaks: [[String]] = []
            var refunds = 0, records = 0
            var prev: (refund: String, hash: String)?
            for r in try AuditCommand.records(refund: refund, on: db) {
                records += 1
                let expectedPrev = prev?.refund == r.refundId ? prev!.hash : ""
                if prev?.refund != r.refundId { refunds += 1 }
                if r.prevHash != expectedPrev {
                    breaks.append([r.refundId, String(r.seq), "its previous hash is not the previous record's hash"])
                } else if r.hash != r.expectedHash(after: r.prevHash) {
                    breaks.append([r.refundId, String(r.seq), "its content does not match its hash (changed)"])
                }
                prev = (r.refundId, r.hash)
            }
            if !breaks.isEmpty { Output.table(["REFUND", "SEQ", "BREAK"], breaks) }
            print("\(refunds) refund(s), \(records) record(s): \(breaks.isEmpty ? "every chain holds" : "\(breaks.count) break(s)")")
            if !breaks.isEmpty { throw ExitCode(AuditCommand.broken) }
        }
    }
}
