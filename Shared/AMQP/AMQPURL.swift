/// `amqp://user:password@host:port/vhost` (percent-encoding allowed in each part; empty path means vhost `/`), or
/// `amqps://…` for TLS with RabbitMQ's URI query parameters: `cacertfile` (the CA that signed the server's
/// certificate; default: the system's CAs), `certfile` + `keyfile` (a client certificate, optional),
/// `verify=verify_none` (turns server verification off: for nothing but a local experiment).
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public struct TLS: Sendable, Equatable {
        public var caCertFile: String
        public var certFile: String?
        public var keyFile: String?
        public var verifyPeer: Bool
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    /// nil: plain TCP.
    public var tls: TLS?

    static let systemCAs = "/etc/ssl/certs/ca-certificates.crt"

    public init(host: String, port: Int = 5672, user: String, password: String, vhost: String = "/", tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
        self.tls = tls
    }

    public init(parsing text: String) throws {
        let secure = text.hasPrefix("amqps://")
        guard secure || text.hasPrefix("amqp://") else { throw AMQPError(.badURL, "must start with amqp:// or amqps://") }
        var rest = Substring(text.dropFirst(secure ? 8 : 7))
        var query: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                query[try Self.decode(String(kv[0]))] = kv.count == 2 ? try Self.decode(String(kv[1])) : ""
            }
            rest = rest[..<q]
        }
        let known: Set<String> = ["cacertfile", "certfile", "keyfile", "verify"]
        if let unknown = query.keys.first(where: { !known.contains($0) }) {
            throw AMQPError(.badURL, "unknown parameter \(unknown) (known: cacertfile, certfile, keyfile, verify)")
        }
        if !secure, !query.isEmpty { throw AMQPError(.badURL, "TLS parameters need amqps://") }
        if secure {
            guard (query["certfile"] == nil) == (query["keyfile"] == nil) else {
                throw AMQPError(.badURL, "certfile and keyfile go together")
            }
            guard [nil, "verify_peer", "verify_none"].contains(query["verify"]) else {
                throw AMQPError(.badURL, "verify is verify_peer or verify_none")
            }
            tls = TLS(caCertFile: query["cacertfile"] ?? Self.systemCAs, certFile: query["certfile"],
                      keyFile: query["keyfile"], verifyPeer: query["verify"] != "verify_none")
        } else {
            tls = nil
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        guard let at = rest.lastIndex(of: "@") else { throw AMQPError(.badURL, "missing user:password@") }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]
        guard let colon = userInfo.firstIndex(of: ":") else { throw AMQPError(.badURL, "missing password") }
        user = try Self.decode(String(userInfo[..<colon]))
        password = try Self.decode(String(userInfo[userInfo.index(after: colon)...]))
        if let pc = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<pc])
            guard let p = Int(hostPort[hostPort.index(after: pc)...]), (1...65535).contains(p) else {
                throw AMQPError(.badURL, "bad port")
            }
            port = p
        } else {
            host = String(hostPort)
            port = secure ? 5671 : 5672
        }
        guard !host.isEmpty, !user.isEmpty else { throw AMQPError(.badURL, "missing host or user") }
        vhost = path.isEmpty ? "/" : try Self.decode(path)
    }

    private static func decode(_ s: String) throws -> String {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else {
                    throw AMQPError(.badURL, "bad percent-encoding")
                }
                out.append(v)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Without the password: safe for logs.
    public var description: String { "\(tls == nil ? "amqp" : "amqps")://\(host):\(port)/\(vhost) as \(user)" }
}
