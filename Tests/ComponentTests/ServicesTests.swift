import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    /// The five real executables: configuration errors, and a start with their own least-privilege credentials.
    @Suite("Service executables")
    struct ServicesTests {
        static let services = ServiceName.allCases.map(\.rawValue)

        @Test("a missing or malformed setting exits 2 with one line naming it", arguments: services)
        func badConfiguration(service: String) throws {
            let bin = TestStack.binPath + "/" + service
            let cases: [([String: String], String)] = [
                (["AMQP_URL": "nonsense", "DATABASE_URL": "postgres://a:b@127.0.0.1:1/x"], "AMQP_URL"),
                (["AMQP_URL": "amqp://a:b@127.0.0.1:1/x", "DATABASE_URL": ""], "DATABASE_URL"),
                (["AMQP_URL": "amqp://a:b@127.0.0.1:1/x", "DATABASE_URL": "postgres://a:b@127.0.0.1:1/x",
                  "BATCH_SIZE": "lots"], "BATCH_SIZE"),
            ]
            for (env, setting) in cases {
                let r = try TestStack.run(bin, [], env: env)
                #expect(r.status == 2, "\(service) with bad \(setting): \(r.output)")
                let lines = r.output.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].contains(setting), "\(r.output)")
                #expect(!r.output.contains("Fatal error") && !r.output.contains("Stack dump"))
            }
        }

        @Test("each service starts with its own credentials, logs that it consumes, and stops on SIGTERM")
        func startAndStop() throws {
            let s = try ServiceProcesses(Self.services)
            var logs: [String: String] = [:]
            for service in Self.services { logs[service] = s.log(service) }
            s.stop()  // expects exit status 0 from each
            for service in Self.services {
                let text = s.log(service)
                #expect(logs[service]?.contains("connected and consuming") == true, "\(service)")
                #expect(text.contains("\"msg\":\"stopped\""), "\(service) did not stop gracefully")
                #expect(!text.contains("local-"), "a password reached the log of \(service)")
            }
        }

        @Test("a service cannot touch another service's queue (per-service broker permissions)")
        func leastPrivilege() throws {
            // The queue exists (so a refusal cannot be the 404 of a missing queue)…
            let setup = try TestStack.connect()
            let q = Topology.queue(for: .payout)
            try TestStack.declare(setup, queue: q.name, bindings: q.bindings)
            setup.close()
            // …and notification's login is refused access to it: 403, nothing else.
            let c = try AMQPConnection(url: try AMQPURL(parsing: try TestStack.setting("NOTIFICATION_AMQP_URL")))
            defer { c.abort() }
            do {
                _ = try c.purgeQueue(q.name)
                Issue.record("notification purged payout's queue")
            } catch let e as AMQPError {
                #expect(e.code == .channelClosed && e.replyCode == 403, "\(e)")
            }
        }
    }
}
