import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import StageRuntime

/// `refundctl reconcile`: three records kept by different parties, compared fen for fen — the channel's statement
/// (what it paid), payout's payouts (what it asked to be paid and recorded as paid), payout's balance ledger (what
/// it credited instead) — with every difference listed. Exit 0: none; 5: differences.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the payment channels' statement with payout's records and balance ledger.")

    @OptionGroup var target: Target
    @Option(help: ArgumentHelp(
        "The channels' statement: an http(s) URL or a file, JSON {\"payments\": [{\"outRequestNo\", \"orderId\", "
            + "\"channel\", \"amountFen\"}]} (CHANNELS.md).", valueName: "url-or-file"))
    var channelLedger: String
    @Option(help: "Only payouts created since this time (ISO 8601), e.g. the statement's day.")
    var since: String?
    @Flag(help: "JSON for scripts.") var json = false

    static let differencesFound: Int32 = 5

    func run() throws {
        let sinceDate: Date
        if let since {
            guard let d = ISO8601DateFormatter().date(from: since) else {
                throw ValidationError("--since must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z")
            }
            sinceDate = d
        } else {
            sinceDate = Date(timeIntervalSince1970: 0)
        }
        let payments = try Self.readLedger(channelLedger)
        let db = try target.connect()
        defer { db.close() }
        let records = try PayoutRecords.load(since: sinceDate, ledgerNumbers: payments.map(\.requestNo), on: db)
        let report = Reconciliation.compare(payments: payments, records: records)
        if json {
            print(try Output.json(report))
        } else {
            Output.table(["DIFFERENCE", "REFUND", "REQUEST NO", "CHANNEL", "FEN", "DETAIL"], report.differences.map {
                [$0.kind, $0.refundId ?? "-", $0.requestNo ?? "-", $0.channel ?? "-", $0.fen.map(String.init) ?? "-",
                 $0.detail]
            })
            print("\(report.payouts) payouts, \(report.ledgerPayments) channel payments, "
                + "\(report.balanceCredits) balance credits: \(report.differences.count) difference(s)")
        }
        if !report.differences.isEmpty { throw ExitCode(Self.differencesFound) }
    }

    static func readLedger(_ source: String) throws -> [Reconciliation.Payment] {
        let data: Data
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            guard let url = URL(string: source) else { throw ValidationError("not a URL: \(source)") }
            guard case .answered(200, let body) = BlockingHTTP.exchange(URLRequest(url: url), timeout: 30).outcome
            else {
                FileHandle.standardError.write(Data("refundctl: cannot read the statement at \(source)\n".utf8))
                throw ExitCode.failure
            }
            data = body
        } else {
            guard let d = FileManager.default.contents(atPath: source) else {
                throw ValidationError("cannot read \(source)")
            }
            data = d
        }
        struct Statement: Decodable {
            struct Entry: Decodable {
                var outRequestNo: String
                var orderId: String
                var channel: String
                var amountFen: Int64
            }
            var payments: [Entry]
        }
        do {
            return try JSONDecoder().decode(Statement.self, from: data).payments.map {
                Reconciliation.Payment(requestNo: $0.outRequestNo.lowercased(), orderId: $0.orderId,
                                       channel: $0.channel, fen: $0.amountFen)
            }
        } catch {
            FileHandle.standardError.write(Data("refundctl: the statement does not parse: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
