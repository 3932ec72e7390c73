import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import RefundModel
import StageRuntime
import Testing

extension Component {
    /// Encryption in transit (issue 11 §2): amqps:// with server verification and client certificates, PostgreSQL
    /// with sslmode=verify-full; a wrong CA is refused with an error that names the setting to fix.
    @Suite("TLS to RabbitMQ and PostgreSQL")
    struct TLSTests {
        @Test("the pipeline end to end over amqps:// and PostgreSQL TLS")
        func pipelineOverTLS() throws {
            let s = try ServiceProcesses(ServiceName.allCases.map(\.rawValue), env: IntakeAPITests.relaxedRisk, tls: true)
            defer { s.stop() }
            // The marketplace over TLS as well.
            let order = TestStack.unique("tls")
            var facts = IntakeAPITests.order(order, paid: 2_500, delivered: false)
            facts.paymentChannel = .alipay
            let market = try AMQPURL(parsing: try TestStack.tlsAMQP(try TestStack.setting("MARKETPLACE_AMQP_URL")))
            let e = Envelope(type: Topology.Key.orderPlaced, correlationId: order,
                             payload: OrderEvent(orderId: order, order: facts))
            try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                                  routingKey: Topology.Key.orderPlaced, as: market)
            let db = try TestStack.database()
            defer { db.close() }
            #expect(try TestStack.eventually(15) {
                !(try db.query("SELECT 1 AS one FROM intake.orders WHERE order_id = $1", [order])).isEmpty
            })
            // Undelivered, small, to the balance: a fast refund through all five stages, no outside channel.
            let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1,
                               body: s.json(IntakeAPITests.applyBody(order, reason: .notDelivered, evidence: [],
                                                                     extra: ["preferredRoute": "balance"])),
                               headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(r.json["id"] as? String, "\(r.status)")
            let done = try s.waitForRefund(id, token: IntakeAPITests.b1, seconds: 30) { $0["state"] as? String == "credited" }
            #expect(done["state"] as? String == "credited")

            // And it really was TLS: every service's broker connections and database sessions.
            for svc in ServiceName.allCases {
                let rows = try db.query("""
                    SELECT bool_and(s.ssl) AS all_ssl, count(*) AS n FROM pg_stat_activity a
                    JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.usename = $1
                    """, [svc.schema])
                #expect(try rows[0].int("n") > 0 && rows[0].bool("all_ssl"), "\(svc.rawValue): a database session without TLS")
            }
            // The management API lists connections a few seconds after they open.
            var connections: [[String: Any]] = []
            _ = try TestStack.eventually(15) {
                connections = try Self.managementGET("/api/connections") as? [[String: Any]] ?? []
                return ServiceName.allCases.allSatisfy { svc in connections.contains { $0["user"] as? String == svc.amqpUser } }
            }
            for svc in ServiceName.allCases {
                let mine = connections.filter { $0["user"] as? String == svc.amqpUser }
                #expect(!mine.isEmpty && mine.allSatisfy { $0["ssl"] as? Bool == true },
                        "\(svc.rawValue): a broker connection without TLS")
            }
        }

        @Test("a wrong CA is refused, and the error names the setting")
        func wrongCA() throws {
            let other = try TestStack.setting("TLS_OTHER_CA_FILE")
            for (setting, env) in [
                ("AMQP_URL", ["AMQP_URL": try TestStack.tlsAMQP(try TestStack.setting("INTAKE_AMQP_URL"), ca: other)]),
                ("DATABASE_URL", ["DATABASE_URL": try TestStack.tlsDatabase(try TestStack.setting("INTAKE_DATABASE_URL"),
                                                                             ca: other)]),
            ] {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/intake")
                p.environment = ProcessInfo.processInfo.environment.merging([
                    "AMQP_URL": try TestStack.setting("INTAKE_AMQP_URL"),
                    "DATABASE_URL": try TestStack.setting("INTAKE_DATABASE_URL"),
                    "HTTP_PORT": String(TestStack.freePort()), "API_TOKENS": ServiceProcesses.tokens,
                ].merging(env) { $1 }) { $1 }
                let log = NSTemporaryDirectory() + "tls-\(UUID().uuidString.prefix(6)).log"
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                p.standardError = FileHandle(forWritingAtPath: log)
                p.standardOutput = FileHandle(forWritingAtPath: log)
                try p.run()
                let refused = TestStack.eventually(20) {
                    ServiceProcesses.read(log).split(separator: "\n").contains {
                        $0.contains("\"setting\":\"\(setting)\"")
                            && ($0.contains("TLS handshake") || $0.contains("certificate verify failed"))
                    }
                }
                p.terminate()
                p.waitUntilExit()
                #expect(refused, "\(setting) with a wrong CA: \(ServiceProcesses.read(log).suffix(1500))")
                #expect(!ServiceProcesses.read(log).contains("connected and consuming"))
            }
        }

        static func managementGET(_ path: String) throws -> Any {
            var request = URLRequest(url: URL(string: try TestStack.setting("RABBITMQ_MANAGEMENT_URL") + path)!)
            let admin = try TestStack.amqpURL()
            let auth = Data("\(admin.user):\(admin.password)".utf8).base64EncodedString()
            request.setValue("Basic \(auth)", forHTTPHeaderField: "Authorization")
            guard case .answered(200, let body) = BlockingHTTP.send(request, timeout: 10) else { return [] }
            return try JSONSerialization.jsonObject(with: body)
        }
    }
}
