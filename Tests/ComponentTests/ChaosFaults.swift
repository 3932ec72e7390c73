import AMQP
import Foundation
import RefundModel
import Testing

/// The faults the chaos test injects into a running fleet, one at a time at random moments, with a count by kind
/// for its table. The outside world's own faults (a channel failing a first call, answering after the caller's
/// timeout, calling back twice; a supplier answering twice or with garbage; the marketplace sending an order again)
/// are asked for by the load itself (refund-load's LOAD_FAULTS) and counted from the sandboxes' own records.
final class ChaosFaults {
    enum Kind: String, CaseIterable {
        case sigkill = "SIGKILL of an instance"
        case sigterm = "SIGTERM of an instance (drain, exit 0)"
        case brokerConnections = "RabbitMQ closes every connection"
        case brokerRestart = "RabbitMQ stopped and started"
        case databaseBackends = "PostgreSQL terminates the services' backends"
        case databaseRestart = "PostgreSQL restarted"
        case poison = "poison message on a stage's queue"
    }

    let fleet: Fleet
    private(set) var injected: [Kind: Int] = [:]
    /// Poison message ids by the queue they were put on: each must reach that queue's DLQ, and nothing else may.
    private(set) var poison: [String: String] = [:]
    /// Instances that did not exit 0 on SIGTERM.
    private(set) var badExits: [String] = []
    /// The services' PostgreSQL roles (one per schema).
    static let roles = ServiceName.allCases.map(\.schema)

    init(fleet: Fleet) { self.fleet = fleet }

    var total: Int { injected.values.reduce(0, +) }

    /// One fault of `kind` (a random one when nil); returns when the platform has it behind it (servers back up,
    /// the instance ready again), so faults do not pile up into a total outage.
    func inject(_ kind: Kind? = nil) throws {
        let kind = kind ?? Self.weighted.randomElement()!
        switch kind {
        case .sigkill:
            try fleet.crashAndRestart(fleet.instances.randomElement()!, downSeconds: Double.random(in: 0...2))
        case .sigterm:
            let i = fleet.instances.randomElement()!
            let status = try fleet.terminateAndRestart(i)
            if status != 0 { badExits.append("\(i.name) exited \(status) on SIGTERM") }
        case .brokerConnections:
            try ctl("close_all_connections", "chaos")
        case .brokerRestart:
            try ctl("stop_app")
            usleep(UInt32.random(in: 500_000...3_000_000))
            try ctl("start_app")
        case .databaseBackends:
            let db = try TestStack.database()
            defer { db.close() }
            _ = try db.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(string_to_array($1, ','))
                """, [Self.roles.joined(separator: ",")])
        case .databaseRestart:
            try #require(try Component.HealthTests.stack("pg-stop") == 0, "pg-stop")
            usleep(UInt32.random(in: 200_000...2_000_000))
            try #require(try Component.HealthTests.stack("pg-start") == 0, "pg-start")
        case .poison:
            try publishPoison()
        }
        injected[kind, default: 0] += 1
    }

    /// Process faults are the most common in production and the cheapest here; server restarts the rarest.
    private static let weighted: [Kind] = [.sigkill, .sigkill, .sigkill, .sigterm, .sigterm, .brokerConnections,
                                           .brokerRestart, .databaseBackends, .databaseBackends, .databaseRestart,
                                           .poison, .poison]

    private func ctl(_ args: String...) throws {
        let result = try TestStack.run(TestStack.repoRoot.appendingPathComponent("scripts/stack").path,
                                       ["rabbitmqctl"] + args, env: ["STACK_NAME": TestStack.stackName])
        try #require(result.status == 0, "rabbitmqctl \(args): \(result.output.suffix(500))")
    }

    /// A message no producer sent, straight onto a stage's queue: half of them broken JSON, half a well-formed
    /// message under a key the queue takes but from nobody entitled to it. Both carry a phone number and an e-mail
    /// address, which the dead letter must show masked.
    private func publishPoison() throws {
        let service = ServiceName.allCases.randomElement()!
        let queue = Topology.queue(for: service)
        let id = "chaos-poison-\(UUID().uuidString.lowercased())"
        let pii = #""phone":"13912345678","email":"poison.buyer@example.com""#
        let body = Bool.random() ? #"{"type":"refund.verified",\#(pii),"payload":{"#
            : #"{"id":"\#(id)","type":"\#(queue.bindings[0])","payload":{\#(pii)}}"#
        let c = try TestStack.connect()
        defer { c.close() }
        try c.enableConfirms()
        let seq = try c.publish(OutgoingMessage(exchange: "", routingKey: queue.name, messageId: id,
                                                type: queue.bindings[0], body: Array(body.utf8)))
        try #require(try c.waitForConfirms(timeoutMillis: 30_000)[seq] == .confirmed, "poison confirmed")
        poison[id] = queue.name
    }
}
