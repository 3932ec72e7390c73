/// The one error type of the PostgreSQL layer: what failed, the server's SQLSTATE, and whether trying again
/// (on a new connection or a new transaction) can succeed.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badURL
        case connection
        case query
        case decode
    }

    public let code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    public let message: String

    public init(_ code: Code, sqlState: String? = nil, _ message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// Serialization failures and deadlocks are retried inside `transaction`; a lost connection is retried by the
    /// caller on a new connection. Everything else is permanent: retrying gives the same answer.
    public var isTransient: Bool {
        if code == .connection { return true }
        guard let s = sqlState else { return false }
        return s == "40001" || s == "40P01" || s.hasPrefix("08") || s == "57P01" || s == "57P02" || s == "57P03"
    }

    public var isSerializationConflict: Bool { sqlState == "40001" || sqlState == "40P01" }
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        "postgres \(code.rawValue)\(sqlState.map { " [\($0)]" } ?? ""): \(message)"
    }
}
