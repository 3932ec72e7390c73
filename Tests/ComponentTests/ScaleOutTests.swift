import Foundation
import Testing

extension Component {
    @Suite("Scale-out: every stage as several instances", .serialized)
    struct ScaleOutTests {
        static let callbackSecret = "scale-out-callback-secret"
        static let jwtSecret = "scale-out-jwt-secret-0123456789abcdef"

        /// Runs refund-load against the fleet; returns its figures (stdout) and its problems (stderr).
        static func load(count: Int, intakes: [Int], channelPort: Int, run: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/refund-load")
            p.environment = ProcessInfo.processInfo.environment.merging([
                "AMQP_URL": try TestStack.setting("MARKETPLACE_AMQP_URL"),
                "INTAKE_URL": intakes.map { "http://127.0.0.1:\($0)" }.joined(separator: ","),
                "CHANNEL_URL": "http://127.0.0.1:\(channelPort)", "LOAD_JWT_SECRET": jwtSecret,
                "LOAD_COUNT": String(count), "LOAD_RUN": run, "LOAD_WAIT_SECONDS": String(max(240, count / 4)),
            ]) { $1 }
            return p
        }

        @Test("2 instances of every stage (payout 3), a mixed burst, one instance of each killed and restarted: all final, paid once, timelines in order")
        func burstWithKills() throws {
            let count = Int(ProcessInfo.processInfo.environment["SCALE_OUT_REFUNDS"] ?? "") ?? 2_000
            let channelPort = TestStack.freePort(), callbackPort = TestStack.freePort()
            var tools: [Process] = []
            defer { for t in tools where t.isRunning { t.terminate(); t.waitUntilExit() } }
            tools.append(try ServiceProcesses.launchTool("payment-sandbox", env: [
                "SANDBOX_HTTP_PORT": String(channelPort), "SANDBOX_PROCESSING_SECONDS": "1",
                "SANDBOX_PROCESSING_CHANNELS": "bank_card",
                "SANDBOX_CALLBACK_URL": "http://127.0.0.1:\(callbackPort)/v1/channel-callbacks",
                "SANDBOX_CALLBACK_SECRET": Self.callbackSecret,
            ], ready: "Server started").0)
            // The channel calls back to one address (a load balancer would spread the calls over the payout
            // instances); here it is payout#1's port, so killing that instance delays callbacks and the sandbox retries.
            let fleet = try ServiceProcesses.orStop(tools) {
                try Fleet([("intake", 2), ("auto-review", 2), ("supplier-verification", 2), ("payout", 3),
                           ("notification", 2)], env: [
                    "JWT_HS256_SECRET": Self.jwtSecret, "RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE": "1000000",
                    "SUPPLIER_IDS": "sup-confirm", "CHANNEL_URL": "http://127.0.0.1:\(channelPort)",
                    "CHANNEL_SECRETS": "*=\(Self.callbackSecret)", "PAYOUT_POLL_SECONDS": "1",
                ], fixedCallbackPort: ("payout", callbackPort))
            }
            defer { fleet.stop() }
            tools.append(try ServiceProcesses.launchTool("supplier-sandbox", env: [
                "SANDBOX_SUPPLIERS": "sup-confirm=confirmed",
            ], ready: "consuming as").0)

            let run = TestStack.unique("scale")
            let driver = try Self.load(count: count, intakes: fleet.of("intake").map(\.httpPort),
                                       channelPort: channelPort, run: run)
            let out = Pipe(), err = Pipe()
            driver.standardOutput = out
            driver.standardError = err
            try driver.run()
            // One instance of each stage killed at a random moment of the burst, and started again; `scripts/chaos`
            // asks for more rounds (SCALE_OUT_KILL_ROUNDS) while the burst lasts.
            let rounds = Int(ProcessInfo.processInfo.environment["SCALE_OUT_KILL_ROUNDS"] ?? "") ?? 1
            for round in 1...rounds {
                for service in ["payout", "intake", "auto-review", "supplier-verification", "notification"].shuffled() {
                    if round > 1 && !driver.isRunning { break }
                    usleep(UInt32.random(in: 500_000...4_000_000))
                    try fleet.crashAndRestart(fleet.of(service).randomElement()!)
                }
            }
            let figures = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            driver.waitUntilExit()
            print("scale-out: \(figures.trimmingCharacters(in: .whitespacesAndNewlines)) killed: \(fleet.kills)")
            #expect(driver.terminationStatus == 0, "invariants broken: \(problems.suffix(3000))")
            let json = (try? JSONSerialization.jsonObject(with: Data(figures.utf8))) as? [String: Any] ?? [:]
            #expect(json["applied"] as? Int == count, "every application accepted: \(figures)")
            #expect((json["states"] as? [String: Int])?["credited"] == count, "every refund credited: \(figures)")
            #expect(fleet.kills.count >= 5)
        }
    }
}
