import ArgumentParser
import Foundation

/// `refundctl bench`: a burst of refunds through a running platform, as its marketplace and buyers would, with a
/// progress bar, then one table: throughput, POST → credited (and with a notify sandbox, → notified) percentiles, and the load driver's correctness checks
/// (each refund final, no order paid twice in the channel's ledger, timelines in order). The driving is
/// `refund-load`'s (installed beside refundctl); its settings may also come from the environment (`LOAD_*`,
/// `INTAKE_URL`, `AMQP_URL`, `CHANNEL_URL`), which is how `scripts/bench` calls it. Exit 1 when a check fails.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Drive a burst of refunds and print throughput, latency and correctness.")

    @Option(help: "Refunds to drive.") var count: Int?
    @Option(help: "Applications in flight at once.") var concurrency: Int?
    @Option(help: "Kinds and weights, e.g. fast=2,supplier=1,bank=1.") var mix: String?
    @Option(help: "Intake's API (several comma-separated: one per instance).") var intakeURL: String?
    @Option(help: "The marketplace's AMQP URL (its order events).") var amqpURL: String?
    @Option(help: "The payment channel (its /ledger is the truth on money).") var channelURL: String?
    @Option(help: "Intake's JWT_HS256_SECRET (each refund gets a buyer of its own).") var jwtSecret: String?
    @Option(help: "The notify sandbox (SMS and e-mail gateways): also wait for and time each buyer's last message.")
    var notifyURL: String?
    @Flag(help: "Print refund-load's JSON line instead of the table.") var json = false

    func run() throws {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let driver = here.appendingPathComponent("refund-load")
        guard FileManager.default.isExecutableFile(atPath: driver.path) else {
            FileHandle.standardError.write(Data("refundctl: refund-load is not beside refundctl (\(driver.path))\n".utf8))
            throw ExitCode.failure
        }
        var env = ProcessInfo.processInfo.environment
        let options: [(String, String?)] = [
            ("LOAD_COUNT", count.map(String.init)), ("LOAD_CONCURRENCY", concurrency.map(String.init)),
            ("LOAD_MIX", mix), ("INTAKE_URL", intakeURL), ("AMQP_URL", amqpURL), ("CHANNEL_URL", channelURL),
            ("LOAD_JWT_SECRET", jwtSecret), ("NOTIFY_URL", notifyURL),
        ]
        for case let (name, value?) in options { env[name] = value }
        env["LOAD_PROGRESS"] = "1"
        let p = Process()
        p.executableURL = driver
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let bar = ProgressBar(tty: isatty(STDERR_FILENO) == 1)
        // refund-load's stderr: progress lines become the bar; anything else is passed on as it is.
        var pending = Data()
        while case let chunk = err.fileHandleForReading.availableData, !chunk.isEmpty {
            pending.append(chunk)
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...nl)
                if !bar.show(line) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
        }
        let result = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        bar.finish()
        let text = String(decoding: result, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if json {
            print(text)
        } else if let f = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            let v = { (k: String) in f[k].map { "\($0)" } ?? "-" }
            Output.table(["REFUNDS", "APPLIED", "CREDITED/S", "POST→CREDITED P50/P95/P99 MS", "NOTIFIED/S",
                          "POST→NOTIFIED P50/P95/P99 MS", "APPLIED IN S", "ALL FINAL IN S", "PROBLEMS"],
                         [[v("refunds"), v("applied"), v("creditedPerSecond"),
                           "\(v("latencyP50Ms")) / \(v("latencyP95Ms")) / \(v("latencyP99Ms"))", v("notifiedPerSecond"),
                           "\(v("notifiedP50Ms")) / \(v("notifiedP95Ms")) / \(v("notifiedP99Ms"))", v("secondsToApply"),
                           v("secondsToFinal"), v("problems")]])
        } else {
            print(text)
        }
        if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
    }
}

/// `[#########.........] applied 120/200, paid 80` on one line of a terminal; a line every 10 % elsewhere.
final class ProgressBar {
    let tty: Bool
    private var lastTenth = -1
    private var drawn = false
    init(tty: Bool) { self.tty = tty }

    /// Draws a `progress applied=A paid=P of=N` line; false for any other line.
    func show(_ line: String) -> Bool {
        guard let m = line.firstMatch(of: /progress applied=(\d+) paid=(\d+) of=(\d+)/),
              let applied = Int(m.1), let paid = Int(m.2), let total = Int(m.3), total > 0 else { return false }
        let width = 30, done = min(width, paid * width / total), sent = min(width, applied * width / total)
        let bar = String(repeating: "#", count: done) + String(repeating: "+", count: max(0, sent - done))
            + String(repeating: ".", count: width - max(done, sent))
        let text = "[\(bar)] applied \(applied)/\(total), paid \(paid)"
        if tty {
            FileHandle.standardError.write(Data("\r\(text)".utf8))
            drawn = true
        } else if paid * 10 / total != lastTenth {
            lastTenth = paid * 10 / total
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
        return true
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
}
