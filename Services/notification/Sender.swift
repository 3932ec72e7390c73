import Foundation
import Logging
import Postgres
import StageRuntime

/// Sends one medium's pending deliveries, on its own thread (`SENDERS_PER_MEDIUM` of them per medium), woken by a
/// new delivery's NOTIFY: a down or slow SMS gateway delays only SMS. A round claims up to `SEND_BATCH` due
/// deliveries with `FOR UPDATE SKIP LOCKED` (several senders and instances share the work without sending twice),
/// sends them through the sender's own gateway connection (an SMTP session stays open; SMS requests of different
/// buyers go side by side), and records every outcome in one statement, committed with the claim: four round trips
/// per round instead of per message. A failure waits
/// with a doubling pause, a refusal is recorded and never retried. A round stops sending once it has taken a
/// gateway timeout: what it did not reach stays pending for the next round (one slow answer holds up its round, not
/// the medium: the other senders go on).
struct Sender: BackgroundWork {
    let medium: Medium
    let gateway: any Gateway
    let settings: NotificationSettings
    var index = 0
    var name: String { "\(medium.rawValue)-sender-\(index)" }

    func run(_ context: WorkContext) {
        var log = context.logger
        log[metadataKey: "medium"] = "\(medium.rawValue)"
        let connection = gateway.connect()
        var db: PostgresConnection?
        while !context.stop.isStopped {
            do {
                if db == nil || !(db!.isHealthy) {
                    db = context.connect()
                    guard db != nil else { break }
                    try db!.listen(DeliveryRepository.wakeUp(medium))
                }
                // A full round may have left more: straight on. Otherwise nothing else was due when it claimed, so
                // wait for a new delivery's NOTIFY (one that came during the round ends the wait at once) or the
                // poll for retries that came due meanwhile, instead of asking again for nothing (at 25 refunds/s
                // that empty claim was a transaction per message).
                if try sendRound(db!, through: connection, log: log) < settings.sendBatch {
                    try waitForWork(db!, stop: context.stop)
                }
            } catch {
                log.warning("send cycle failed", metadata: ["error": "\(error)"])
                db?.close()
                db = nil
                context.stop.sleep(millis: settings.idlePollMillis)
            }
        }
        db?.close()
    }

    /// Returns on a new delivery's NOTIFY, after the poll interval, or soon after a stop (in slices of at most
    /// half a second, so a long poll never delays a shutdown).
    private func waitForWork(_ db: PostgresConnection, stop: StopSignal) throws {
        var left = settings.idlePollMillis
        while left > 0, !stop.isStopped {
            let slice = min(left, 500)
            if try !db.waitForNotifications(timeoutMillis: Int32(slice)).isEmpty { return }
            left -= slice
        }
    }

    /// Sends one round of due deliveries; returns how many were claimed.
    private func sendRound(_ db: PostgresConnection, through connection: any GatewayConnection,
                           log: Logger) throws -> Int {
        let budget = DispatchTime.now().uptimeNanoseconds + UInt64(settings.gatewayTimeoutSeconds) * 1_000_000_000
        // The outcomes are counted once their record is committed.
        let (claimed, outcomes): (Int, [DeliveryRepository.Outcome]) = try db.transaction { db in
            let repo = DeliveryRepository(db: db)
            let due = try repo.claimDue(medium, limit: settings.sendBatch)
            let results = send(due, through: connection, budget: budget)
            let outcomes = zip(due, results).compactMap { d, r in r.map { outcome(of: d, $0, log: log) } }
            try repo.record(outcomes, medium: medium)
            return (due.count, outcomes)
        }
        for o in outcomes {
            StageMetrics.notification(medium: medium.rawValue, outcome: Self.metricLabel[o.state] ?? o.state)
        }
        return claimed
    }

    /// Sends a round's deliveries; nil for one not tried (the round's time was up). Through a connection that takes
    /// several requests at once, one run per address goes side by side (a buyer's messages stay in their order,
    /// different buyers' do not wait for each other); otherwise (one SMTP session) one after another.
    private func send(_ due: [Delivery], through connection: any GatewayConnection, budget: UInt64) -> [SendResult?] {
        let results = SendResults(count: due.count)
        var runs: [String: [Int]] = [:]
        var order: [String] = []
        for (i, d) in due.enumerated() {
            if runs[d.address] == nil { order.append(d.address) }
            runs[d.address, default: []].append(i)
        }
        let sendRun: @Sendable (GatewayConnection, [Int]) -> Void = { connection, indices in
            for (n, i) in indices.enumerated() {
                if n > 0, DispatchTime.now().uptimeNanoseconds > budget { break }
                results.set(i, connection.send(due[i]))
            }
        }
        if let concurrent = connection as? any ConcurrentGatewayConnection, order.count > 1 {
            let group = DispatchGroup()
            for address in order {
                let indices = runs[address]!
                // The queue's threads may block on the gateway: it is not Swift's cooperative pool.
                Self.sendQueue.async(group: group) { sendRun(concurrent, indices) }
            }
            group.wait()
        } else {
            sendRun(connection, Array(due.indices))  // one connection, one message at a time
        }
        return results.all
    }

    /// Where side-by-side sends run (a concurrent queue starts a thread for each blocked send, up to its limit).
    private static let sendQueue = DispatchQueue(label: "notification.gateway-sends", attributes: .concurrent)

    /// The metric's outcome label of a recorded state.
    private static let metricLabel = ["sent": "sent", "refused": "refused", "gave_up": "failed", "pending": "retry"]

    private func outcome(of d: Delivery, _ result: SendResult, log: Logger) -> DeliveryRepository.Outcome {
        var log = log
        log[metadataKey: "refund.id"] = "\(d.refundId)"
        switch result {
        case .sent:
            log.info("sent", metadata: ["to": "\(d.address)"])
            return .init(delivery: d, state: "sent")
        case .refused(let why):
            log.warning("address refused for good; not retried", metadata: ["to": "\(d.address)", "why": "\(why)"])
            return .init(delivery: d, state: "refused", error: why)
        case .retry(let why) where d.attempts + 1 >= settings.maxAttempts:
            log.error("gave up after \(d.attempts + 1) attempts", metadata: ["to": "\(d.address)", "why": "\(why)"])
            return .init(delivery: d, state: "gave_up", error: why)
        case .retry(let why):
            let pause = min(settings.maxRetryMillis, settings.retryMillis << min(d.attempts, 16))
            log.warning("gateway failed; will retry", metadata: ["why": "\(why)", "retry.ms": "\(pause)"])
            return .init(delivery: d, state: "pending", error: why, retryAfterMillis: pause)
        }
    }
}

/// A round's results, written by the threads that sent them.
private final class SendResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [SendResult?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: SendResult) { lock.withLock { results[i] = r } }
    var all: [SendResult?] { lock.withLock { results } }
}
