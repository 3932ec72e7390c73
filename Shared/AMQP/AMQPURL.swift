/// `amqp://user:password@host:port/vhost` (percent-encoding allowed in each part; empty path means vhost `/`);
/// a cluster's nodes as several addresses, `amqp://user:password@host1:5672,host2:5672,host3:5672/vhost` (each new
/// connection tries them in turn, starting one further each time); or
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

    /// One node of the broker.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The broker's nodes (one, or a cluster's); `host` and `port` are the first.
    public var endpoints: [Endpoint]
    public var host: String {
        get { endpoints[0].host }
        set { endpoints[0].host = newValue }
    }
    public var port: Int {
        get { endpoints[0].port }
        set { endpoints[0].port = newValue }
    }
    public var user: String
    public var password: String
    public var vhost: String
    /// nil: plain TCP.
    public var tls: TLS?

    static let systemCAs = "/etc/ssl/certs/ca-certificates.crt"

    public init(host: String, port: Int = 5672, user: String, password: String, vhost: String = "/", tls: TLS? = nil) {
        endpoints = [Endpoint(host: host, port: port)]
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
        endpoints = try hostPort.split(separator: ",", omittingEmptySubsequences: false).map { address in
            var host = String(address), port = secure ? 5671 : 5672
            if let pc = address.lastIndex(of: ":") {
                host = String(address[..<pc])
                guard let p = Int(address[address.index(after: pc)...]), (1...65535).contains(p) else {
                    throw AMQPError(.badURL, "bad port")
                }
                port = p
            }
            guard !host.isEmpty else { throw AMQPError(.badURL, "missing host") }
            return Endpoint(host: host, port: port)
        }
        guard !user.isEmpty else { throw AMQPError(.badURL, "missing user") }
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
    public var description: String {
        "\(tls == nil ? "amqp" : "amqps")://\(endpoints.map { "\($0.host):\($0.port)" }.joined(separator: ","))/\(vhost) as \(user)"
    }
}
