import Foundation
import Logging
import Postgres
import RefundModel
import StageRuntime

/// Calls the payment channels, several at once (`CHANNEL_CALLERS` threads per instance), never inside a transaction
/// (ARCHITECTURE.md: "no outside call inside a transaction"):
/// 1. claim one due payout and mark it called, leased for the call's length, and commit;
/// 2. call (or query) the channel with the payout's request number;
/// 3. record the answer in a new transaction, if the payout is still the one that was called.
/// A crash between 1 and 3 leaves the lease to expire: the next caller queries the channel before anything else, and
/// the request number makes a repeated refund call harmless. Woken by NOTIFY when a payout becomes due.
struct ChannelCaller: BackgroundWork {
    let name: String
    let handler: PayoutHandler
    let schema: String
    let pollMillis: Int

    func run(_ context: WorkContext) {
        var db: PostgresConnection?
        // Longer than a call can take (a query and a refund, each up to the timeout), so a live call is never taken
        // over, and short enough that a call cut off by a crash is taken up again soon.
        let lease = handler.settings.channelTimeout * 2 + 5
        while !context.stop.isStopped {
            if db == nil || !(db!.isHealthy) {
                db = context.connect()
                do { try db?.listen(PayoutHandler.callsChannel) } catch { db?.close(); db = nil }
            }
            guard let conn = db else {
                if context.stop.isStopped { break }
                _ = context.stop.sleep(millis: pollMillis)
                continue
            }
            do {
                // One statement, committed on its own (no BEGIN/COMMIT round trips): claimed before the call.
                let claimed = try PayoutRepository(db: conn).claimCall(leaseSeconds: lease)
                guard let (payout, calledBefore) = claimed else {
                    _ = try conn.waitForNotifications(timeoutMillis: Int32(pollMillis))
                    continue
                }
                let answer = handler.callChannel(payout, calledBefore: calledBefore)
                try StageTransaction.run(on: conn, schema: schema, logger: context.logger) { tx in
                    try handler.record(answer, for: payout, repo: PayoutRepository(db: tx.db), tx: tx)
                }
            } catch {
                // The lease brings an interrupted call back; nothing is lost by dropping the connection.
                context.logger.warning("channel call cycle failed", metadata: ["error": "\(error)"])
                conn.close()
                db = nil
                _ = context.stop.sleep(millis: pollMillis)
            }
        }
        db?.close()
    }
}
