import AMQP
import ChannelSigning
import Foundation
import Postgres
import RefundModel
import Testing

/// The servers `scripts/test` started (RabbitMQ, PostgreSQL on their own ports) and the binaries it built.
/// These tests never skip: run outside `scripts/test`, they fail and say so.
enum TestStack {
    static func setting(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name],
                     "\(name) is not set: run the tests through scripts/test, which starts the servers")
    }

    static func amqpURL() throws -> AMQPURL { try AMQPURL(parsing: try setting("AMQP_ADMIN_URL")) }
    static func databaseURL() throws -> String { try setting("DATABASE_ADMIN_URL") }

    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binPath: String {
        ProcessInfo.processInfo.environment["BIN_PATH"] ?? repoRoot.appendingPathComponent(".build/debug").path
    }

    static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Which `scripts/stack` instance the tests run against: `test` (scripts/test), or `chaos` (scripts/chaos, so a
    /// long fault run can go on beside the test suite). Its env file exports the name.
    static var stackName: String { ProcessInfo.processInfo.environment["STACK_NAME"] ?? "test" }

    /// Runs `scripts/stack rabbitmqctl …` against the test node.
    static func rabbitmqctl(_ args: String...) throws {
        let result = try run(repoRoot.appendingPathComponent("scripts/stack").path, ["rabbitmqctl"] + args,
                             env: ["STACK_NAME": TestStack.stackName])
        #expect(result.status == 0, "rabbitmqctl \(args) failed: \(result.output)")
    }

    @discardableResult
    static func run(_ path: String, _ args: [String], env: [String: String] = [:]) throws
        -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass; returns whether it held.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    /// Connects, retrying while the broker restarts.
    static func connect(timeout: Double = 60) throws -> AMQPConnection {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do { return try AMQPConnection(url: try amqpURL()) } catch {
                if Date() > deadline { throw error }
                usleep(250_000)
            }
        }
    }

    /// Declares a queue as its owner would: a service's own queue with its quarantine (as the runtime declares it).
    static func declare(_ c: AMQPConnection, queue: String, bindings: [String], deliveryLimit: Int = 5) throws {
        try c.declare(eventsExchange: Topology.eventsExchange, deadLetterExchange: Topology.deadLetterExchange,
                      queues: [ServiceName(rawValue: queue) != nil
                                ? QueueDeclaration(stage: .init(name: queue, bindings: bindings), deliveryLimit: deliveryLimit)
                                : QueueDeclaration(name: queue, bindings: bindings, deliveryLimit: deliveryLimit,
                                                   deadLetterQueue: Topology.deadLetterQueue(of: queue))])
    }

    /// The credentials of the rightful producer of `routingKey` (the producers table): the marketplace's user for
    /// order events, the owning service's user for the services' messages; the admin for keys no producer has
    /// (the runtime probe's) and for supplier replies (the sandbox's suppliers send those themselves).
    static func producerURL(for routingKey: String) throws -> AMQPURL {
        let producers = Producers.allowed(routingKey: routingKey) ?? []
        if producers.contains(.marketplace) { return try AMQPURL(parsing: try setting("MARKETPLACE_AMQP_URL")) }
        if let service = producers.compactMap({ p -> ServiceName? in
            if case .service(let s) = p { return s } else { return nil }
        }).sorted(by: { $0.rawValue < $1.rawValue }).first {
            let upper = service.rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
            return try AMQPURL(parsing: try setting("\(upper)_AMQP_URL"))
        }
        return try amqpURL()
    }

    /// Publishes envelopes (or raw bodies) with confirms as `url`'s user with its `user_id` (by default the key's
    /// rightful producer); every one must be confirmed.
    static func publish(_ bodies: [(id: String, type: String, body: [UInt8])], routingKey: String,
                        as url: AMQPURL? = nil) throws {
        let url = try url ?? producerURL(for: routingKey)
        let c = try AMQPConnection(url: url)
        defer { c.close() }
        try c.enableConfirms()
        var seqs: [UInt64] = []
        for b in bodies {
            seqs.append(try c.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: routingKey,
                                                      messageId: b.id, type: b.type, userId: url.user, body: b.body)))
        }
        let outcomes = try c.waitForConfirms(timeoutMillis: 30_000)
        for s in seqs { #expect(outcomes[s] == .confirmed) }
    }

    /// Reads deliveries until none arrives for `quietMillis`, acking each.
    static func drain(_ queue: String, quietMillis: Int = 1500, max: Int = 100_000) throws -> [Delivery] {
        let c = try connect()
        defer { c.close() }
        try c.consume(queue: queue, prefetch: 500)
        var out: [Delivery] = []
        while out.count < max, let d = try c.nextDelivery(timeoutMillis: quietMillis) {
            out.append(d)
            try c.ack(d)
        }
        return out
    }

    static func database() throws -> PostgresConnection { try PostgresConnection(url: try databaseURL()) }
}

/// The stage-probe executable (Tools/stage-probe) run as a real process on the real runtime.
final class ProbeProcess {
    let queue: String
    let schema: String
    let logPath: String
    private let process = Process()

    init(queue: String, schema: String, env extra: [String: String] = [:]) throws {
        self.queue = queue
        self.schema = schema
        logPath = NSTemporaryDirectory() + "probe-\(queue)-\(UUID().uuidString.prefix(4)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: TestStack.binPath + "/stage-probe")
        process.environment = ProcessInfo.processInfo.environment.merging([
            "AMQP_URL": try TestStack.setting("AMQP_ADMIN_URL"),
            "DATABASE_URL": try TestStack.databaseURL(),
            "PROBE_QUEUE": queue, "PROBE_SCHEMA": schema, "LOG_LEVEL": "info", "BATCH_SIZE": "50",
        ].merging(extra) { $1 }) { $1 }
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for the runtime's "connected and consuming" line.
    func waitUntilConsuming(seconds: Double = 60) throws {
        let ok = TestStack.eventually(seconds) { log.contains("connected and consuming") || !process.isRunning }
        try #require(ok && process.isRunning, "probe did not start consuming: \(log.suffix(2000))")
    }

    func terminate() { if process.isRunning { process.terminate() } }
    func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Waits for the process to exit; returns its status, or nil if it is still running after `seconds`.
    func waitForExit(seconds: Double = 30) -> Int32? {
        guard TestStack.eventually(seconds, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    // MARK: - What the probe did

    func effects() throws -> [String: Int] {
        let db = try TestStack.database()
        defer { db.close() }
        guard !(try db.query("SELECT 1 AS one FROM pg_namespace WHERE nspname = $1", [schema])).isEmpty else {
            return [:]
        }
        var out: [String: Int] = [:]
        for row in try db.query("SELECT key, count FROM \(schema).effects") {
            out[try row.string("key")] = try row.int("count")
        }
        return out
    }

    static func increments(_ keys: [String]) throws -> [(id: String, type: String, body: [UInt8])] {
        try keys.map { key in
            let e = Envelope(type: "probe.increment", correlationId: key, payload: ["key": key])
            return (e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))
        }
    }

    var inKey: String { "probe.\(queue).in" }
    var outKey: String { "probe.\(queue).out" }
}


extension TestStack {
    /// A TCP port on 127.0.0.1 that is free now, for the process we start next. Taken in turn from 20000-24999,
    /// below the kernel's ephemeral range: a port the kernel hands out (bind to 0) can be given again, once released,
    /// as the local port of some client connection before our server binds it (seen: "Address already in use" for
    /// intake in a CI run). In turn, from a random start, so this process never hands out one port twice and two test
    /// processes rarely meet; a port that is taken is skipped.
    static func freePort() -> Int {
        portLock.lock()
        defer { portLock.unlock() }
        for _ in 0..<5_000 {
            nextPort = nextPort >= 25_000 ? 20_000 : nextPort + 1
            if canBind(nextPort) { return nextPort }
        }
        preconditionFailure("no free port in 20000-24999")
    }

    private nonisolated(unsafe) static var nextPort = Int.random(in: 20_000..<25_000)
    private static let portLock = NSLock()

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension TestStack {
    /// An API time: ISO-8601 with milliseconds (what the services write), or without a fraction.
    static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}

extension TestStack {
    /// `API_TOKENS` for (token, "role:id") pairs: each token as its SHA-256 digest, as intake requires.
    static func tokenEntries(_ pairs: [(String, String)]) -> String {
        pairs.map { "sha256:\(Digests.hex(Digests.sha256(Array($0.0.utf8))))=\($0.1)" }.joined(separator: ",")
    }
}

extension TestStack {
    /// The same user and vhost over amqps:// on the stack's TLS port, verifying against `ca` (default: the stack's
    /// CA), with the stack's client certificate.
    static func tlsAMQP(_ plain: String, ca: String? = nil) throws -> String {
        let ca = try ca ?? setting("TLS_CA_FILE")
        return plain.replacingOccurrences(of: "amqp://", with: "amqps://")
            .replacingOccurrences(of: "@127.0.0.1:\(try setting("AMQP_PORT"))/",
                                  // rabbitmq-c 0.11 checks the certificate's DNS names only, not its IP addresses.
                                  with: "@localhost:\(try setting("AMQPS_PORT"))/")
            + "?cacertfile=\(ca)&certfile=\(try setting("TLS_CLIENT_CERT"))&keyfile=\(try setting("TLS_CLIENT_KEY"))"
    }

    /// The same database URL with `sslmode=verify-full` against `ca` (default: the stack's CA).
    static func tlsDatabase(_ plain: String, ca: String? = nil) throws -> String {
        plain + "?sslmode=verify-full&sslrootcert=\(try ca ?? setting("TLS_CA_FILE"))"
    }
}
