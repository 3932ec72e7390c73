/// The one error type of the AMQP layer. `isTransient` says whether reconnecting can help.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badURL
        /// Socket, login or protocol failure: the connection is gone.
        case connection
        /// The broker closed the channel (bad declaration, access refused, …) with `replyCode`.
        case channelClosed
        /// The broker closed the connection (shutdown, `close_connection`, …) with `replyCode`.
        case connectionClosed
        /// Confirms did not arrive in time: the outcome of the pending publishes is unknown.
        case timeout
        /// The consumer was cancelled by the broker (queue deleted).
        case consumerCancelled
        /// TLS could not be set up (CA or client certificate unreadable, handshake or verification failed): an
        /// operator must act, though a reconnect is still tried (a certificate may be renewed meanwhile).
        case tls
    }

    public let code: Code
    public let replyCode: Int?
    public let message: String

    public init(_ code: Code, replyCode: Int? = nil, _ message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    /// Access refused (403) and not-found (404) on declaration are configuration errors; the rest is worth a
    /// reconnect with backoff.
    public var isTransient: Bool {
        switch code {
        case .badURL: return false
        case .channelClosed: return replyCode != 403 && replyCode != 406
        default: return true
        }
    }

    public var description: String {
        "amqp \(code.rawValue)\(replyCode.map { " [\($0)]" } ?? ""): \(message)"
    }
}
