import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefundModel
import StageRuntime
import Testing

extension Component {
    /// Issue 12's proof: a mixed load through every stage as several instances while faults are injected at random,
    /// then the invariants, each with its count of violations. `scripts/chaos` runs it long (CHAOS_REFUNDS,
    /// CHAOS_FAULTS); scripts/test at CI size.
    @Suite("Chaos: mixed load, random faults, invariants", .serialized)
    struct ChaosTests {
        static let suppliers = ["sup-confirm": "confirmed", "sup-twice": "twice", "sup-partial": "partial:4000",
                                "sup-garbage": "garbage"]
        static var setting: [String: String] { ProcessInfo.processInfo.environment }

        @Test("every refund final and paid at most once, fen for fen, through kills, broker and database restarts, poison")
        func chaos() throws {
            let count = Int(Self.setting["CHAOS_REFUNDS"] ?? "") ?? 1_000
            let minimumFaults = Int(Self.setting["CHAOS_FAULTS"] ?? "") ?? 20
            let started = Date()
            for service in ServiceName.allCases {  // dead letters of earlier tests are not this run's
                _ = try? TestStack.drain(Topology.deadLetterQueue(of: Topology.queue(for: service).name), quietMillis: 300)
            }
            let channelPort = TestStack.freePort(), callbackPort = TestStack.freePort()
            let notifyPort = TestStack.freePort(), smtpPort = TestStack.freePort()
            var tools: [Process] = []
            defer { for t in tools where t.isRunning { t.terminate(); t.waitUntilExit() } }
            tools.append(try LoadDriver.paymentSandbox(port: channelPort, callbackPort: callbackPort))
            tools.append(try ServiceProcesses.launchTool("notify-sandbox", env: [
                "SANDBOX_HTTP_PORT": String(notifyPort), "SANDBOX_SMTP_PORT": String(smtpPort),
            ], ready: "Server started").0)
            let fleet = try ServiceProcesses.orStop(tools) {
                try Fleet([("intake", 2), ("auto-review", 2), ("supplier-verification", 2), ("payout", 3),
                           ("notification", 2)], env: [
                    "JWT_HS256_SECRET": LoadDriver.jwtSecret, "RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE": "1000000",
                    "SUPPLIER_IDS": Self.suppliers.keys.sorted().joined(separator: ","),
                    "SUPPLIER_ANSWER_SECONDS": "10", "CHANNEL_URL": "http://127.0.0.1:\(channelPort)",
                    "CHANNEL_SECRETS": "*=\(LoadDriver.callbackSecret)", "PAYOUT_POLL_SECONDS": "1",
                    "SMS_URL": "http://127.0.0.1:\(notifyPort)/v1/sms", "SMTP_URL": "smtp://127.0.0.1:\(smtpPort)",
                    "NOTIFY_RETRY_SECONDS": "1", "NOTIFY_MAX_RETRY_SECONDS": "5",
                ], fixedCallbackPort: ("payout", callbackPort))
            }
            defer { fleet.stop() }
            tools.append(try ServiceProcesses.launchTool("supplier-sandbox", env: [
                "SANDBOX_SUPPLIERS": Self.suppliers.map { "\($0)=\($1)" }.joined(separator: ","),
            ], ready: "consuming as").0)

            let run = TestStack.unique("chaos")
            let progress = NSTemporaryDirectory() + run + ".progress"
            let driver = try LoadDriver.process(count: count, intakes: fleet.of("intake").map(\.httpPort),
                                                channelPort: channelPort, run: run)
            driver.environment?.merge([
                "LOAD_MIX": "fast=3,wechat=1,bank=2,closed=1,supplier=3",
                "LOAD_SUPPLIER": "sup-confirm,sup-confirm,sup-twice,sup-partial,sup-garbage",
                "LOAD_FAULTS": "1", "LOAD_PROFILES": "sms+email", "LOAD_PROGRESS_FILE": progress,
            ]) { $1 }
            let out = NSTemporaryDirectory() + run + ".out", err = NSTemporaryDirectory() + run + ".err"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            driver.standardOutput = FileHandle(forWritingAtPath: out)
            driver.standardError = FileHandle(forWritingAtPath: err)
            try driver.run()

            // Faults begin once the marketplace's order events are in (a broker down while it publishes would only
            // fail the driver), one every 0.5-3 s while the load runs, and at least `minimumFaults` in all.
            let faults = ChaosFaults(fleet: fleet)
            _ = TestStack.eventually(120) { FileManager.default.fileExists(atPath: progress) || !driver.isRunning }
            while driver.isRunning || faults.total < minimumFaults {
                usleep(UInt32.random(in: 500_000...3_000_000))
                try faults.inject()
            }
            driver.waitUntilExit()
            let loadSeconds = Date().timeIntervalSince(started)

            let figures = (try? JSONSerialization.jsonObject(with: Data(ServiceProcesses.read(out).utf8))) as? [String: Any] ?? [:]
            let invariants = try ChaosInvariants(run: run, fleet: fleet, faults: faults, channelPort: channelPort,
                                                 notifyPort: notifyPort, driverStatus: driver.terminationStatus,
                                                 driverProblems: ServiceProcesses.read(err))
            print(invariants.table(figures: figures, seconds: loadSeconds))
            #expect(figures["applied"] as? Int == count, "every application accepted: \(figures)")
            for (name, violations) in invariants.results {
                #expect(violations.isEmpty, "\(name): \(violations.prefix(10))")
            }
            #expect(faults.total >= minimumFaults)
        }
    }
}
