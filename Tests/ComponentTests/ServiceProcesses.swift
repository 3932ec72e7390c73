import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefundModel
import StageRuntime
import Testing

/// Real service executables started as processes with their own credentials, and an HTTP client for intake.
final class ServiceProcesses {
    struct Running {
        let name: String
        let process: Process
        let log: String
    }

    private(set) var running: [Running] = []
    /// Log files by service, kept after `stop()`.
    private var logs: [String: String] = [:]
    let httpPort = TestStack.freePort()
    let callbackPort = TestStack.freePort()
    /// Each service's `/ready` and `/live` port.
    private(set) var healthPorts: [String: Int] = [:]
    /// `API_TOKENS` holds digests only: these tokens, hashed.
    static let tokens = TestStack.tokenEntries([
        ("buyer-token-b1-test-credential", "buyer:b-1"), ("buyer-token-b2-test-credential", "buyer:b-2"),
        ("reviewer-token-r1-test-credential", "reviewer:r-1"), ("reviewer-token-r2-test-credential", "reviewer:r-2"),
        // A buyer of its own for tests whose many applications must not count in b-1's risk window.
        ("buyer-token-b9-test-credential", "buyer:b-9"),
    ])

    /// Starts `services` (kebab names) with `env` on top of their credentials; waits until each consumes.
    /// `tls`: every service reaches RabbitMQ over amqps:// (with a client certificate) and PostgreSQL with
    /// `sslmode=verify-full`, both checked against the test stack's CA.
    init(_ services: [String], env: [String: String] = [:], tls: Bool = false) throws {
        for service in services {
            let upper = service.uppercased().replacingOccurrences(of: "-", with: "_")
            var amqpURL = try TestStack.setting("\(upper)_AMQP_URL")
            var databaseURL = try TestStack.setting("\(upper)_DATABASE_URL")
            if tls {
                amqpURL = try TestStack.tlsAMQP(amqpURL)
                databaseURL = try TestStack.tlsDatabase(databaseURL)
            }
            let healthPort = TestStack.freePort()
            healthPorts[service] = healthPort
            let log = NSTemporaryDirectory() + "svc-\(service)-\(UUID().uuidString.prefix(6)).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/" + service)
            p.environment = ProcessInfo.processInfo.environment.merging([
                "AMQP_URL": amqpURL, "DATABASE_URL": databaseURL,
                // Ports the kernel says are free, never the defaults: the tests run beside a running scripts/run.
                "HTTP_PORT": String(httpPort), "CALLBACK_PORT": String(callbackPort),
                "API_TOKENS": Self.tokens, "DEADLINE_POLL_MS": "100", "HEALTH_PORT": String(healthPort),
            ].merging(env) { $1 }) { $1 }
            p.standardError = FileHandle(forWritingAtPath: log)
            p.standardOutput = FileHandle(forWritingAtPath: log)
            try p.run()
            running.append(Running(name: service, process: p, log: log))
            logs[service] = log
        }
        for r in running {
            let marker = r.name == "intake" ? "http listening" : "connected and consuming"
            let up = TestStack.eventually(60) { Self.read(r.log).contains(marker) || !r.process.isRunning }
            try #require(up && r.process.isRunning, "\(r.name) did not start: \(Self.read(r.log).suffix(2000))")
        }
        if services.contains("intake") {
            let intake = running.first { $0.name == "intake" }!
            let consuming = TestStack.eventually(60) { Self.read(intake.log).contains("connected and consuming") }
            try #require(consuming, "intake listens but never consumed: \(Self.read(intake.log).suffix(2000))")
        }
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func log(_ service: String) -> String { logs[service].map(Self.read) ?? "" }

    /// SIGTERM to all, and every one must exit 0.
    func stop() {
        for r in running where r.process.isRunning { r.process.terminate() }
        for r in running {
            r.process.waitUntilExit()
            #expect(r.process.terminationStatus == 0,
                    "\(r.name) exit status \(r.process.terminationStatus): \(Self.read(r.log).suffix(1500))")
        }
        running = []
    }

    /// Kills a service with SIGKILL, as a crash would; it is no longer expected to exit cleanly.
    func kill9(_ service: String) {
        for r in running where r.name == service {
            kill(r.process.processIdentifier, SIGKILL)
            r.process.waitUntilExit()
        }
        running.removeAll { $0.name == service }
    }

    /// Runs `body` (usually starting services); if it throws, the tools started before it are stopped, not left
    /// running after a failed test.
    static func orStop<T>(_ tools: [Process], _ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            for t in tools where t.isRunning {
                t.terminate()
                t.waitUntilExit()
            }
            throw error
        }
    }

    /// Starts a tool (a sandbox) from the build folder with `env`, its output in a log file; waits for `ready`.
    static func launchTool(_ name: String, env: [String: String], ready: String) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/" + name)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let log = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log)
        p.standardOutput = FileHandle(forWritingAtPath: log)
        try p.run()
        let up = TestStack.eventually(30) { read(log).contains(ready) || !p.isRunning }
        if !(up && p.isRunning), p.isRunning {
            p.terminate()  // a tool that never got ready is stopped, not left behind
            p.waitUntilExit()
        }
        try #require(up && p.isRunning, "\(name) did not start: \(read(log).suffix(1000))")
        return (p, log)
    }

    deinit {
        for r in running where r.process.isRunning {
            kill(r.process.processIdentifier, SIGKILL)
            r.process.waitUntilExit()
        }
    }

    // MARK: - HTTP

    struct HTTPResult {
        let status: Int
        let body: Data
        var headers: [String: String] = [:]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func http(_ method: String, _ path: String, token: String?, body: Data? = nil,
              headers: [String: String] = [:], absolute: Bool = false) throws -> HTTPResult {
        var request = URLRequest(url: URL(string: absolute ? path : "http://127.0.0.1:\(httpPort)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (outcome, headers) = BlockingHTTP.exchange(request, timeout: 30)
        switch outcome {
        case .answered(let status, let body): return HTTPResult(status: status, body: body, headers: headers)
        case .noAnswer(let why): throw NoAnswer(why: "\(method) \(path): \(why)")
        }
    }

    /// A service's `/metrics` (on its health port), parsed; nil when nothing answers.
    func metrics(_ service: String) -> PrometheusText? {
        healthPorts[service].flatMap { PrometheusText.scrape(port: $0) }
    }

    /// The status of `GET path` on a service's health port (0: no answer).
    func health(_ service: String, _ path: String) -> Int {
        guard let port = healthPorts[service] else { return 0 }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 5
        if case .answered(let status, _) = BlockingHTTP.exchange(request, timeout: 5).0 { return status }
        return 0
    }

    struct NoAnswer: Error {
        let why: String
    }

    func json(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    /// Polls a refund until `done` holds for its JSON (or 20 s pass); returns the last JSON seen.
    func waitForRefund(_ id: String, token: String, seconds: Double = 20,
                       until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        var last: [String: Any] = [:]
        _ = try TestStack.eventually(seconds) {
            last = try http("GET", "/v1/refunds/\(id)", token: token).json
            return done(last)
        }
        return last
    }
}

/// Publishes order facts as a marketplace would: `order.placed` with the whole order, then the other events.
enum Marketplace {
    static func place(_ facts: OrderFacts) throws {
        try publish(Topology.Key.orderPlaced, OrderEvent(orderId: facts.orderId, order: facts))
    }

    static func publish(_ key: String, _ event: OrderEvent) throws {
        let e = Envelope(type: key, correlationId: event.orderId, payload: event)
        try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                              routingKey: key)
    }
}
