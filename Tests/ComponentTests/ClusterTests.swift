import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StageRuntime
import Testing

extension Component {
    @Suite("A three-node RabbitMQ cluster", .serialized)
    struct ClusterTests {
        static func stack(_ args: String) throws -> (Int32, String) {
            let log = NSTemporaryDirectory() + "cluster-\(UUID().uuidString.prefix(6)).log"
            let status = try TestStack.run("/bin/sh", ["-c", "\"$0\" \(args) > \"$1\" 2>&1",
                                                       TestStack.repoRoot.appendingPathComponent("scripts/stack").path,
                                                       log], env: ["STACK_NAME": TestStack.stackName]).status
            return (status, ServiceProcesses.read(log))
        }

        /// `export NAME='value'` lines of .stack/cluster/env.
        static func clusterEnv() -> [String: String] {
            let text = ServiceProcesses.read(TestStack.repoRoot.appendingPathComponent(".stack/cluster/env").path)
            var out: [String: String] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("export ") {
                let kv = line.dropFirst(7).split(separator: "=", maxSplits: 1)
                if kv.count == 2 { out[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
            }
            return out
        }

        /// The management API of a node that is still up.
        static func api(_ path: String, node: Int) -> Any? {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(15702 + 10 * node)/api/\(path)")!)
            request.setValue("Basic " + Data("refunds-admin:local-admin".utf8).base64EncodedString(),
                             forHTTPHeaderField: "Authorization")
            guard case .answered(200, let body) = BlockingHTTP.exchange(request, timeout: 10).0 else { return nil }
            return try? JSONSerialization.jsonObject(with: body)
        }

        @Test("the node leading the queues killed with -9 in the middle of a burst: every refund credited exactly once, the services moved to the other nodes")
        func leaderKilled() throws {
            let up = try Self.stack("cluster-up")
            defer { if ProcessInfo.processInfo.environment["CLUSTER_KEEP"] == nil { _ = try? Self.stack("cluster-down") } }
            try #require(up.0 == 0, "cluster did not start: \(up.1.suffix(2000))")
            let cluster = Self.clusterEnv()
            var perService: [String: [String: String]] = [:]
            for s in ["intake", "auto-review", "supplier-verification", "payout", "notification"] {
                let upper = s.uppercased().replacingOccurrences(of: "-", with: "_")
                perService[s] = ["AMQP_URL": try #require(cluster["CLUSTER_\(upper)_AMQP_URL"])]
            }
            let channelPort = TestStack.freePort(), callbackPort = TestStack.freePort()
            var tools: [Process] = []
            defer { for t in tools where t.isRunning { t.terminate(); t.waitUntilExit() } }
            tools.append(try LoadDriver.paymentSandbox(port: channelPort, callbackPort: callbackPort))
            let fleet = try ServiceProcesses.orStop(tools) {
                try Fleet([("intake", 1), ("auto-review", 1), ("supplier-verification", 1), ("payout", 1),
                           ("notification", 1)], env: [
                    "JWT_HS256_SECRET": LoadDriver.jwtSecret, "RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE": "1000000",
                    "CHANNEL_URL": "http://127.0.0.1:\(channelPort)",
                    "CHANNEL_SECRETS": "*=\(LoadDriver.callbackSecret)", "PAYOUT_POLL_SECONDS": "1",
                ], perService: perService, fixedCallbackPort: ("payout", callbackPort))
            }
            defer { fleet.stop() }

            // Every quorum queue has a replica on each node; the node leading most of them is the one to kill.
            let queues = Self.api("queues/refunds", node: 1) as? [[String: Any]] ?? []
            let quorum = queues.filter { ($0["type"] as? String) == "quorum" }
            #expect(quorum.count >= 5, "the services' queues are quorum queues: \(queues.map { $0["name"] ?? "" })")
            for q in quorum {
                #expect((q["members"] as? [String])?.count == 3, "\(q["name"] ?? "") replicated on three nodes")
            }
            var leading: [String: Int] = [:]
            for q in quorum { if let l = q["leader"] as? String { leading[l, default: 0] += 1 } }
            let leader = leading.max { $0.value < $1.value }?.key ?? "refunds-cluster-1@localhost"
            let node = Int(leader.split(separator: "-").last?.split(separator: "@").first ?? "1") ?? 1

            let driver = try LoadDriver.process(count: Int(ProcessInfo.processInfo.environment["CLUSTER_REFUNDS"] ?? "") ?? 600,
                                                intakes: [fleet.of("intake")[0].httpPort], channelPort: channelPort,
                                                run: TestStack.unique("cluster"))
            var env = driver.environment ?? [:]
            env["AMQP_URL"] = cluster["CLUSTER_MARKETPLACE_AMQP_URL"]
            env["LOAD_MIX"] = "fast=2,bank=1"
            driver.environment = env
            let out = Pipe(), err = Pipe()
            driver.standardOutput = out
            driver.standardError = err
            try driver.run()
            usleep(UInt32.random(in: 3_000_000...6_000_000))
            if ProcessInfo.processInfo.environment["CLUSTER_NO_KILL"] == nil {
                let killed = try Self.stack("cluster-kill \(node)")
                #expect(killed.0 == 0)
            }
            let figures = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            driver.waitUntilExit()
            print("cluster: killed \(leader) (leading \(leading[leader] ?? 0) queues): \(figures)")
            let alive = node == 1 ? 2 : 1
            let depths = (Self.api("queues/refunds", node: alive) as? [[String: Any]] ?? []).map {
                "\($0["name"] ?? "") ready=\($0["messages_ready"] ?? "?") unacked=\($0["messages_unacknowledged"] ?? "?") consumers=\($0["consumers"] ?? "?") leader=\($0["leader"] ?? "?")"
            }
            #expect(driver.terminationStatus == 0, "invariants broken: \(problems.suffix(3000)); queues: \(depths)")
            let json = (try? JSONSerialization.jsonObject(with: Data(figures.utf8))) as? [String: Any] ?? [:]
            #expect((json["states"] as? [String: Int])?["credited"] == json["refunds"] as? Int, "all credited: \(figures)")
            // The services are still ready: they moved to the nodes left.
            for i in fleet.instances {
                #expect(TestStack.eventually(30) { fleet.health(i, "/ready") == 200 }, "\(i.name) ready again")
            }
        }
    }
}
