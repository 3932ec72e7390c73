import Foundation
import Logging
import Postgres
import RefundModel
import StageRuntime

/// Calls the payment channels, several at once (`CHANNEL_CALLERS` threads per instance, each with up to
/// `CHANNEL_CALL_BATCH` calls in flight), never inside a transaction (ARCHITECTURE.md: "no outside call inside a
/// transaction"):
/// 1. claim a batch of due payouts and mark them called, leased for a call's length, and commit;
/// 2. call (or query) the channel for each, with its request number, all at once (the round lasts one call);
/// 3. record the answers in one new transaction, each only if its payout is still the one that was called.
/// A crash between 1 and 3 leaves the lease to expire: the next caller queries the channel before anything else, and
/// the request number makes a repeated refund call harmless. Woken by NOTIFY when a payout becomes due.
struct ChannelCaller: BackgroundWork {
    let name: String
    let handler: PayoutHandler
    let schema: String
    let pollMillis: Int
    let batch: Int

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
                // One statement, committed on its own (no BEGIN/COMMIT round trips): claimed before the calls.
                let claimed = try PayoutRepository(db: conn).claimCalls(leaseSeconds: lease, limit: batch)
                if claimed.isEmpty {
                    _ = try conn.waitForNotifications(timeoutMillis: Int32(pollMillis))
                    continue
                }
                let answers = CallAnswers(count: claimed.count)
                // A thread per call (the calls block on the network; GCD's pool would run only as many as there
                // are cores); the first on this one.
                let calls = DispatchGroup()
                for i in claimed.indices.dropFirst() {
                    calls.enter()
                    Thread.detachNewThread {
                        answers[i] = handler.callChannel(claimed[i].0, calledBefore: claimed[i].calledBefore)
                        calls.leave()
                    }
                }
                answers[0] = handler.callChannel(claimed[0].0, calledBefore: claimed[0].calledBefore)
                calls.wait()
                try record(zip(claimed.map(\.0), answers.all), on: conn, context)
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

    /// The round's answers in one transaction; if that fails, each on its own, so one payout whose record fails
    /// (its lease brings it back) does not hold up the others' settlement.
    private func record(_ answered: Zip2Sequence<[PayoutRecord], [ChannelClient.Answer]>, on conn: PostgresConnection,
                        _ context: WorkContext) throws {
        let all = Array(answered)
        do {
            try StageTransaction.run(on: conn, schema: schema, logger: context.logger) { tx in
                for (payout, answer) in all {
                    try handler.record(answer, for: payout, repo: PayoutRepository(db: tx.db), tx: tx)
                }
            }
        } catch where all.count > 1 && conn.isHealthy {
            context.logger.warning("recording a round of channel answers failed: each on its own",
                                   metadata: ["error": "\(error)", "round.size": "\(all.count)"])
            for (payout, answer) in all {
                try StageTransaction.run(on: conn, schema: schema, logger: context.logger) { tx in
                    try handler.record(answer, for: payout, repo: PayoutRepository(db: tx.db), tx: tx)
                }
            }
        }
    }
}

/// The answers of one round's calls, each written by its own call's thread.
private final class CallAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [ChannelClient.Answer?]
    init(count: Int) { answers = Array(repeating: nil, count: count) }
    subscript(i: Int) -> ChannelClient.Answer? {
        get { lock.withLock { answers[i] } }
        set { lock.withLock { answers[i] = newValue } }
    }
    /// Every call returns an answer (`unknown` when the channel did not answer).
    var all: [ChannelClient.Answer] { lock.withLock { answers.map { $0 ?? .unknown("no answer recorded") } } }
}
