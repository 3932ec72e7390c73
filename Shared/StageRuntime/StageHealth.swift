import Foundation

/// What a running stage knows about itself, for `/ready` and `/live` (`HealthListener`).
///
/// Ready means the stage can move refunds now: the consumer holds its broker connection and goes round, the relay
/// holds both its database and broker connections and goes round (so PostgreSQL is reachable), and the outbox is not
/// stuck (its oldest row never tried is younger than `stuckOutboxSeconds`). Live means the stage has not ended: an orchestrator
/// restarts a process that is not live, and only stops routing to one that is not ready.
public final class StageHealth: @unchecked Sendable {
    /// A part that has not gone round for this long counts as hung.
    static let beatSeconds: Double = 15
    /// An outbox row older than this means the relay cannot deliver (broker refusing, unroutable, ...).
    static let stuckOutboxSeconds: Double = 120

    private struct Part {
        var connected = false
        var lastBeat = Date.distantPast
    }

    private let lock = NSLock()
    private var consumer = Part()
    private var relay = Part()
    private var oldestOutboxSeconds: Double = 0
    private var ended = false

    public init() {}

    func consumer(connected: Bool) { update { $0.consumer = Part(connected: connected, lastBeat: Date()) } }
    func relay(connected: Bool) { update { $0.relay = Part(connected: connected, lastBeat: Date()) } }
    func outbox(oldestSeconds: Double) { update { $0.oldestOutboxSeconds = oldestSeconds } }
    /// The stage's threads have finished (asked to stop, or failed).
    public func stageEnded() { update { $0.ended = true } }

    public var live: Bool { read { !$0.ended } }

    /// Whether the stage is ready, with each check's finding ("ok" or why not).
    public func readiness(now: Date = Date()) -> (ready: Bool, checks: [String: String]) {
        read { h in
            func part(_ p: Part, _ what: String) -> String {
                if !p.connected { return "\(what) not connected" }
                let age = now.timeIntervalSince(p.lastBeat)
                return age > Self.beatSeconds ? "\(what) silent for \(Int(age)) s" : "ok"
            }
            let checks = [
                "stage": h.ended ? "ended" : "ok",
                "consumer": part(h.consumer, "broker"),
                "relay": part(h.relay, "database or broker"),
                "outbox": h.oldestOutboxSeconds > Self.stuckOutboxSeconds
                    ? "oldest unsent message \(Int(h.oldestOutboxSeconds)) s old" : "ok",
            ]
            return (checks.values.allSatisfy { $0 == "ok" }, checks)
        }
    }

    private func update(_ body: (StageHealth) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(self)
    }

    private func read<T>(_ body: (StageHealth) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}
