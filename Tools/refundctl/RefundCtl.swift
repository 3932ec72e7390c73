import ArgumentParser
import Foundation

/// The operators' command-line tool. It talks to the services' PostgreSQL schemas with an operator's login
/// (`--database-url`, or REFUNDCTL_DATABASE_URL, or the stack's DATABASE_ADMIN_URL) and to nothing else: whatever
/// it changes, the owning service carries out through its normal path (e.g. a replay goes out through that
/// service's outbox and comes back through its inbox).
///
/// Exit codes: 0 done; 1 failed (database unreachable, unexpected error); 3 no such record; 4 refused (already
/// decided, cannot be replayed); 5 reconciliation found differences; 6 an audit chain is
/// broken; 64 usage.
@main
struct RefundCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refundctl",
        abstract: "Operate the refund platform: refunds, dead letters, reconciliation, the audit record, suppliers, tokens, a benchmark.",
        subcommands: [RefundCommand.self, DeadLetterCommand.self, ReconcileCommand.self, AuditCommand.self,
                      SupplierCommand.self, TokensCommand.self, BenchCommand.self])
}

enum ExitStatus {
    static let notFound: Int32 = 3
    static let refused: Int32 = 4
}
