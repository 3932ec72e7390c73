import Foundation
import Logging

/// A minimal HTTP listener on `HEALTH_PORT` answering `GET /ready` and `GET /live` from `StageHealth`, for
/// container health checks and orchestrators, and `GET /metrics` (Prometheus's text format, `StageMetrics`). Every service has one (intake's and payout's HTTP servers are busy
/// with buyers and channels; a health probe must not queue behind them), on plain blocking sockets on its own thread
/// so it answers even when the stage's threads are wedged.
final class HealthListener: @unchecked Sendable {
    private let fd: Int32
    private let health: StageHealth
    private let stop: StopSignal
    private let logger: Logger

    /// Binds `host:port` (port 0: any free port); nil, logged, when the port cannot be bound.
    init?(host: String, port: Int, health: StageHealth, stop: StopSignal, logger: Logger) {
        self.health = health
        self.stop = stop
        self.logger = logger
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            logger.error("health listener: HEALTH_HOST must be an IPv4 address", metadata: ["host": "\(host)"])
            close(fd)
            return nil
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            logger.error("health listener cannot bind", metadata: ["port": "\(port)", "errno": "\(errno)"])
            close(fd)
            return nil
        }
        logger.info("health listening", metadata: ["health.port": "\(port)"])
    }

    /// Serves until stopped; one request per connection, answered at once.
    func run() {
        defer { close(fd) }
        while !stop.isStopped {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 250) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = read(client, &buffer, buffer.count)
        guard n > 0 else { return }
        let requestLine = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = requestLine.split(separator: " ")
        let (status, body): (Int, String)
        var contentType = "application/json"
        switch (parts.first.map(String.init), parts.dropFirst().first.map(String.init)) {
        case ("GET", "/metrics"):
            contentType = "text/plain; version=0.0.4; charset=utf-8"
            (status, body) = (200, String(decoding: StageMetrics.exposition(), as: UTF8.self))
        case ("GET", "/ready"):
            let (ready, checks) = health.readiness()
            let json = (try? JSONSerialization.data(withJSONObject: ["ready": ready, "checks": checks],
                                                    options: [.sortedKeys])) ?? Data()
            (status, body) = (ready ? 200 : 503, String(decoding: json, as: UTF8.self))
        case ("GET", "/live"):
            (status, body) = health.live ? (200, "{\"live\":true}") : (503, "{\"live\":false}")
        case ("GET", _):
            (status, body) = (404, "{\"error\":\"not_found\"}")
        default:
            (status, body) = (405, "{\"error\":\"method_not_allowed\"}")
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? ""
        let response = Array(("HTTP/1.1 \(status) \(reason)\r\ncontent-type: \(contentType)\r\n"
            + "content-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n\(body)").utf8)
        // The metrics page can outgrow one write.
        var sent = 0
        while sent < response.count {
            let n = response[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            sent += n
        }
    }
}
