import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StageRuntime
import Testing

/// Several instances of each service as real processes, each with its own ports (HTTP, callbacks, health), so
/// that any one can be killed with SIGKILL and started again while the others go on. Nothing but the broker and
/// the database is shared between them.
final class Fleet {
    final class Instance {
        let service: String
        let number: Int
        let httpPort = TestStack.freePort()
        var callbackPort = TestStack.freePort()
        let healthPort = TestStack.freePort()
        var process: Process?
        let log: String
        var name: String { "\(service)#\(number)" }

        init(service: String, number: Int) {
            self.service = service
            self.number = number
            log = NSTemporaryDirectory() + "fleet-\(service)-\(number)-\(UUID().uuidString.prefix(6)).log"
        }
    }

    private(set) var instances: [Instance] = []
    private let env: [String: String]
    private let perService: [String: [String: String]]
    /// Restarts by SIGKILL and start again, for the note.
    private(set) var kills: [String] = []

    /// `counts`: instances per service (kebab names). `env` on top of each service's credentials.
    /// `fixedCallbackPort`: the first instance of that service listens for callbacks on that port.
    /// `perService`: settings for one service only (on top of `env`), e.g. its AMQP_URL on a cluster.
    init(_ counts: [(String, Int)], env: [String: String], perService: [String: [String: String]] = [:],
         fixedCallbackPort: (String, Int)? = nil) throws {
        self.env = env
        self.perService = perService
        for (service, n) in counts { for k in 1...n { instances.append(Instance(service: service, number: k)) } }
        if let (service, port) = fixedCallbackPort { of(service).first?.callbackPort = port }
        for i in instances { try start(i) }
        for i in instances { try waitUntilReady(i) }
    }

    func of(_ service: String) -> [Instance] { instances.filter { $0.service == service } }

    private func start(_ i: Instance) throws {
        let upper = i.service.uppercased().replacingOccurrences(of: "-", with: "_")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/" + i.service)
        p.environment = ProcessInfo.processInfo.environment.merging([
            "AMQP_URL": try TestStack.setting("\(upper)_AMQP_URL"),
            "DATABASE_URL": try TestStack.setting("\(upper)_DATABASE_URL"),
            "HTTP_PORT": String(i.httpPort), "CALLBACK_PORT": String(i.callbackPort),
            "HEALTH_PORT": String(i.healthPort),
        ].merging(env) { $1 }.merging(perService[i.service] ?? [:]) { $1 }) { $1 }
        if !FileManager.default.fileExists(atPath: i.log) { _ = FileManager.default.createFile(atPath: i.log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: i.log)
        handle?.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        i.process = p
    }

    private func waitUntilReady(_ i: Instance) throws {
        let ready = TestStack.eventually(90) { health(i, "/ready") == 200 || !(i.process?.isRunning ?? false) }
        try #require(ready && i.process?.isRunning == true,
                     "\(i.name) not ready: \(ServiceProcesses.read(i.log).suffix(1500))")
    }

    func health(_ i: Instance, _ path: String) -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(i.healthPort)\(path)")!)
        request.timeoutInterval = 3
        if case .answered(let status, _) = BlockingHTTP.exchange(request, timeout: 3).0 { return status }
        return 0
    }

    /// SIGKILL, as a crash or an OOM kill would; then the same instance (same ports) started again.
    func crashAndRestart(_ i: Instance, downSeconds: Double = 1) throws {
        if let p = i.process, p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        kills.append(i.name)
        usleep(UInt32(downSeconds * 1_000_000))
        try start(i)
        try waitUntilReady(i)
    }

    /// SIGTERM, as an orchestrator's rolling restart sends; the instance must drain and exit 0 within 30 s (its
    /// status is returned, -1 when it had to be killed), then it is started again on the same ports.
    @discardableResult
    func terminateAndRestart(_ i: Instance) throws -> Int32 {
        var status: Int32 = 0
        if let p = i.process, p.isRunning {
            p.terminate()
            if TestStack.eventually(30, { !p.isRunning }) { status = p.terminationStatus } else {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                status = -1
            }
        }
        try start(i)
        try waitUntilReady(i)
        return status
    }

    /// SIGTERM to all; every instance must exit 0.
    func stop() {
        for i in instances { if let p = i.process, p.isRunning { p.terminate() } }
        for i in instances {
            guard let p = i.process else { continue }
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(i.name) exit \(p.terminationStatus): \(ServiceProcesses.read(i.log).suffix(1000))")
        }
    }

    deinit {
        for i in instances { if let p = i.process, p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
    }
}
