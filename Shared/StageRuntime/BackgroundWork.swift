import Foundation
import Logging
import Postgres

/// Work a stage does beside consuming, on its own thread (e.g. notification's gateway senders, so a slow SMS gateway
/// never holds up e-mail or the consumer). Started after migrations, stopped with the stage before its relay drains.
public protocol BackgroundWork: Sendable {
    var name: String { get }
    func run(_ context: WorkContext)
}

/// What background work gets: the stop signal, a logger, and database connections on the service's schema.
public struct WorkContext: Sendable {
    public let stop: StopSignal
    public let logger: Logger
    let databaseURL: String
    let schema: String

    /// A connection (retried with backoff); nil once the stage is stopping.
    public func connect() -> PostgresConnection? {
        Connections.postgres(databaseURL, schema: schema, name: "work", stop: stop, logger: logger)
    }
}
