import Foundation
import Postgres
import RefundModel
import StageRuntime

/// A minimal stage for the runtime's own tests: it counts `probe.increment` messages per key in its schema and
/// publishes one `probe.done` event per handled message, through the real runtime (inbox, outbox, relay).
///
/// Settings: the usual stage settings, plus PROBE_QUEUE (queue name, default `stage-probe`), PROBE_SCHEMA (default
/// `probe`), PROBE_HANDLE_DELAY_MS (slow each message down, to stop it mid-burst), PROBE_EXIT_AFTER_COMMIT=1 (die
/// with `_exit(9)` after the first commit, before the ack: the crash window the inbox exists for). An increment whose
/// key is in its `blocked` table fails permanently (a dead letter an operator can mend and replay).
/// PROBE_LOOP_ENDS_AFTER_MS: one background loop returns on its own after that long, as a loop with a bug would.
struct ProbePayload: Codable, Sendable {
    var key: String
}

struct ProbeHandler: StageHandler {
    let queue: String
    let delayMicros: UInt32

    var routes: MessageRoutes {
        MessageRoutes()
            .on("probe.increment", ProbePayload.self) { p, message, tx in
                if delayMicros > 0 { usleep(delayMicros) }
                // A failure an operator can mend (delete the key from `blocked`), then replay the dead letter.
                if !(try tx.db.query("SELECT 1 AS one FROM blocked WHERE key = $1", [p.key]).isEmpty) {
                    throw StageError.permanent("key \(p.key) is blocked")
                }
                try tx.db.query("""
                    INSERT INTO effects (key, count) VALUES ($1, 1)
                    ON CONFLICT (key) DO UPDATE SET count = effects.count + 1
                    """, [p.key])
                try tx.publish("probe.\(queue).out", Envelope(type: "probe.done", correlationId: p.key, payload: p))
            }
            // A message that kills its consumer every time (before commit): only the broker's delivery limit ends it.
            .onRaw("probe.crash") { _, _ in _exit(3) }
            // A timer of the kind named by the key: probe-ok counts its firing, probe-fail throws, probe-crash dies.
            .on("probe.schedule", ProbePayload.self) { p, message, tx in
                try tx.schedule(kind: p.key, key: message.header.id.description, dueAt: Date())
            }
            // A write whose answer nobody waits for, failing where it is sent: with the window's COMMIT.
            .on("probe.deferred-fail", ProbePayload.self) { p, _, tx in
                try tx.db.deferred("INSERT INTO effects (key, count) VALUES ($1, 1 / (length($1) - length($1)))",
                                   [p.key])
            }
            .onRaw("probe.poison") { _, _ in
                throw StageError.permanent("probe refuses poison for 13800138000 / someone@example.com")
            }
    }

    func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        switch deadline.kind {
        case "probe-ok":
            try tx.db.query("""
                INSERT INTO effects (key, count) VALUES ($1, 1)
                ON CONFLICT (key) DO UPDATE SET count = effects.count + 1
                """, ["timer:" + deadline.key])
        case "probe-fail": throw StageError.permanent("probe timer refuses for 13800138000")
        case "probe-crash": _exit(4)
        default: return
        }
    }
}

/// A loop that ends while nobody asked it to stop: the process must not stay up half-alive.
struct FragileWork: BackgroundWork {
    let name = "fragile"
    let millis: Int
    func run(_ context: WorkContext) { context.stop.sleep(millis: millis) }
}

await runStage("stage-probe", definition: { env in
    let queue = try env.string("PROBE_QUEUE", default: "stage-probe")
    let schema = try env.string("PROBE_SCHEMA", default: "probe")
    let delay = try env.int("PROBE_HANDLE_DELAY_MS", default: 0, range: 0...10_000)
    let loopEnds = try env.int("PROBE_LOOP_ENDS_AFTER_MS", default: 0, range: 0...600_000)
    return StageDefinition(
        name: "stage-probe", schema: schema,
        queue: Topology.QueueSpec(name: queue, bindings: ["probe.\(queue).in"]),
        migrations: [Migration(100, "effects", "CREATE TABLE effects (key text PRIMARY KEY, count integer NOT NULL)"),
                     Migration(101, "blocked keys", "CREATE TABLE blocked (key text PRIMARY KEY)")],
        handler: ProbeHandler(queue: queue, delayMicros: UInt32(delay) * 1000),
        work: loopEnds > 0 ? [FragileWork(millis: loopEnds)] : [],
        // The probe's keys are not the platform's: any publisher the broker admits is acted on.
        publishers: .anyPublisher)
}, hooks: { env in
    guard env.values["PROBE_EXIT_AFTER_COMMIT"] == "1" else { return StageHooks() }
    return StageHooks(afterCommit: { _ in _exit(9) })
})
