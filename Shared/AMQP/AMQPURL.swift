/// `amqp://user:password@host:port/vhost` (percent-encoding allowed in each part; empty path means vhost `/`).
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String

    public init(host: String, port: Int = 5672, user: String, password: String, vhost: String = "/") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
    }

    public init(parsing text: String) throws {
        let scheme = "amqp://"
        guard text.hasPrefix(scheme) else { throw AMQPError(.badURL, "must start with amqp://") }
        var rest = Substring(text.dropFirst(scheme.count))
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
            port = 5672
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
    public var description: String { "amqp://\(host):\(port)/\(vhost) as \(user)" }
}
