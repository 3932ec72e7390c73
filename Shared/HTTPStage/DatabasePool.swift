import Dispatch
import Foundation
import Logging
import Postgres

/// PostgreSQL for async HTTP handlers without blocking Swift's cooperative pool: each connection is owned by its
/// own serial dispatch queue (a GCD thread, not the pool), and a request borrows one through a continuation.
/// A broken connection is replaced on next use.
public final class DatabasePool: @unchecked Sendable {
    private let url: String
    private let schema: String
    private let name: String
    private let queues: [DispatchQueue]
    private var connections: [PostgresConnection?]
    private let lock = NSLock()
    private var next = 0

    public init(url: String, schema: String, size: Int, name: String) {
        self.url = url
        self.schema = schema
        queues = (0..<size).map { DispatchQueue(label: "\(name)-db-\($0)") }
        self.name = name
        connections = Array(repeating: nil, count: size)
    }

    /// Runs `body` with a connection on that connection's own thread; its errors come back to the caller.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let slot: Int = lock.withLock {
            defer { next = (next + 1) % queues.count }
            return next
        }
        return try await withCheckedThrowingContinuation { continuation in
            queues[slot].async {
                continuation.resume(with: Result { try body(try self.connection(slot)) })
            }
        }
    }

    /// Only ever called on `queues[slot]`, so the slot's connection has one user at a time.
    private func connection(_ slot: Int) throws -> PostgresConnection {
        if let c = lock.withLock({ connections[slot] }), c.isHealthy { return c }
        let c = try PostgresConnection(url: url, applicationName: "\(name)-http")
        try c.simple("SET search_path TO \(schema)")
        lock.withLock { connections[slot] = c }
        return c
    }
}
