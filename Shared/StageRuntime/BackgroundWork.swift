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

    /// The loop every periodic sweep shares: a round now and then every `seconds`, on one connection kept across
    /// rounds; a round that throws is logged as "<what> failed" and its connection replaced for the next round.
    /// Returns once the stage stops.
    public func everyRound(seconds: Double, what: String, _ round: (PostgresConnection) throws -> Void) {
        var db: PostgresConnection?
        while !stop.isStopped {
            if db == nil || !(db!.isHealthy) { db = connect() }
            guard let conn = db else { break }
            do {
                try round(conn)
            } catch {
                logger.warning("\(what) failed", metadata: ["error": "\(error)"])
                conn.close()
                db = nil
            }
            _ = stop.sleep(millis: Int(seconds * 1000))
        }
        db?.close()
    }
}
