import AMQP
import Foundation
import Logging
import Postgres
import RefundModel

/// A message as a handler sees it: the decoded envelope header, where it came from, and the raw body to decode
/// the payload from. No AMQP or C types.
public struct IncomingMessage: Sendable {
    public let header: EnvelopeHeader
    public let routingKey: String
    /// The publisher identity RabbitMQ validated (`user_id`), when the publisher set one (suppliers must).
    public let validatedUserId: String?
    public let redelivered: Bool
    public let body: [UInt8]
    /// The stage's logger with this message's id, type and refund: what its handler logs with.
    public let logger: Logger

    /// Decodes the full envelope with its typed payload; a mismatch is a permanent error (dead-lettered).
    public func decode<P: Codable & Sendable>(_: P.Type) throws -> Envelope<P> {
        do {
            return try MessageCoding.decoder().decode(Envelope<P>.self, from: Data(body))
        } catch {
            throw StageError.permanent("payload of \(header.type) does not decode: \(StageError.describe(error))")
        }
    }
}

/// How a handler says a message cannot be handled. Anything else it throws is classified by the runtime: a
/// transient database or broker error is retried, everything else is permanent.
public enum StageError: Error, CustomStringConvertible {
    /// Retrying cannot help (bad payload, unknown type, rule violation): the message is dead-lettered with `reason`.
    case permanent(String)
    /// Retrying may help (a dependency is down): the batch is retried with backoff.
    case transient(String)

    public var description: String {
        switch self {
        case .permanent(let r): return "permanent: \(r)"
        case .transient(let r): return "transient: \(r)"
        }
    }

    static func isTransient(_ error: Error) -> Bool {
        switch error {
        case let e as StageError: if case .transient = e { return true } else { return false }
        case let e as PostgresError: return e.isTransient
        case let e as AMQPError: return e.isTransient
        default: return false
        }
    }

    /// A short reason for logs and dead letters, without the payload itself.
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return "data corrupted at \(path(c.codingPath)): \(c.debugDescription)"
        case DecodingError.keyNotFound(let k, let c): return "missing key \(path(c.codingPath + [k]))"
        case DecodingError.typeMismatch(_, let c): return "wrong type at \(path(c.codingPath))"
        case DecodingError.valueNotFound(_, let c): return "null at \(path(c.codingPath))"
        default: return String(describing: error)
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "root" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A timer that came due (see `StageTransaction.schedule`).
public struct Deadline: Sendable {
    public let kind: String
    public let key: String
    public let dueAt: Date
    public let payload: String
}

/// A stage's business logic. Called on the stage's worker thread inside the open transaction: everything it writes
/// through `tx` commits together with the inbox entry and the outgoing messages, or not at all.
public protocol StageHandler: Sendable {
    /// One handler per message type the stage consumes (read once, when the stage is defined).
    var routes: MessageRoutes { get }
    /// A deadline of this service came due. Default: nothing.
    func fire(_ deadline: Deadline, in tx: StageTransaction) throws
    /// A message was just dead-lettered (refused before any handler, or its handler failed for good), in the
    /// transaction that dead-letters it: e.g. tell its sender why. Default: nothing. A failure here is logged and
    /// undone; it never blocks the window.
    func deadLettered(_ letter: DeadLetterNotice, in tx: StageTransaction) throws
    /// Before a window's messages are handled one by one: its fresh messages (no duplicates, window order), for a
    /// handler whose messages each ask the database the same question to ask it for all of them in one round trip
    /// (`PostgresConnection.queryAll`) and leave each answer in `tx.prepared[message id]`. Called only when the
    /// window runs in one piece (not when it is done again message by message after a failure), so a handler must
    /// also work without it. Default: nothing.
    func prepare(_ window: [IncomingMessage], in tx: StageTransaction) throws
}

extension StageHandler {
    public func prepare(_ window: [IncomingMessage], in tx: StageTransaction) throws {}
    public func fire(_ deadline: Deadline, in tx: StageTransaction) throws {}
    public func deadLettered(_ letter: DeadLetterNotice, in tx: StageTransaction) throws {}
}

/// A message being dead-lettered, as the stage received it: the routing key it was published under and the
/// publisher RabbitMQ validated (for a replay: the original's), its ids, why, and its body (unmasked: it stays in
/// the service).
public struct DeadLetterNotice: Sendable {
    public let routingKey: String
    public let validatedUserId: String?
    public let messageId: String?
    public let correlationId: String?
    public let reason: String
    public let body: [UInt8]
}

/// The handler's view of the open transaction: its own schema's tables (`db`), messages to send after commit, and
/// timers.
///
/// Outgoing messages are kept in memory and written to the outbox in one multi-row statement when the transaction
/// is about to commit (`finish`): a window of fifty messages that publish two events each costs one round trip for
/// its outbox, not a hundred. `isolated` undoes a failed part's messages together with its savepoint.
public final class StageTransaction {
    public let db: PostgresConnection
    /// The logger of what is being handled: the message (its id, type and refund) or the timer (its kind and key).
    public internal(set) var logger: Logger
    let sql: RuntimeSQL
    private var pending: [OutboxRow] = []
    private var written = 0
    private var notifications: [String] = []
    let encoder = MessageCoding.encoder()
    /// What `StageHandler.prepare` found out for each message of the window, by message id, for its handler.
    public var prepared: [String: any Sendable] = [:]

    init(db: PostgresConnection, sql: RuntimeSQL, logger: Logger) {
        self.db = db
        self.sql = sql
        self.logger = logger
    }

    /// A transaction outside the consumer (an HTTP request of intake): the same outbox and timers, committed
    /// together with `body`'s writes, and the relay woken at commit.
    public static func run<T>(on db: PostgresConnection, schema: String, logger: Logger? = nil,
                              _ body: (StageTransaction) throws -> T) throws -> T {
        let sql = RuntimeSQL(schema: schema)
        return try db.transaction { db in
            let tx = StageTransaction(db: db, sql: sql, logger: logger ?? Logger(label: schema))
            let value = try body(tx)
            try tx.finish()
            return value
        }
    }

    /// Runs `body` under a savepoint: if it throws, its writes and the messages it queued are both undone.
    func isolated<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let mark = pending.count
        do {
            return try db.savepoint(body)
        } catch {
            pending.removeSubrange(mark...)
            throw error
        }
    }

    /// Writes the queued messages to the outbox and wakes the relay (at commit), in the COMMIT's round trip
    /// (`deferred`). Called once, last, by whoever opened the transaction.
    func finish() throws {
        var rest = pending[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(OutboxRow.perStatement)
            try db.deferred(sql.insertOutbox(rows: chunk.count), chunk.flatMap(\.parameters))
            rest = rest.dropFirst(chunk.count)
        }
        written += pending.count
        pending.removeAll()
        var channels = notifications
        if written > 0 { channels.insert(sql.notifyChannel, at: 0) }
        guard !channels.isEmpty else { return }
        // Every wake-up in one statement; PostgreSQL delivers them at commit. Both statements go with the COMMIT.
        try db.deferred("SELECT " + channels.indices.map { "pg_notify($\($0 + 1), '')" }.joined(separator: ", "),
                     channels.map { $0 as PostgresBindable? })
    }

    /// Wakes whoever listens on `channel` when the transaction commits (sent with the outbox's own wake-up).
    public func notifyAtCommit(_ channel: String) {
        if !notifications.contains(channel) { notifications.append(channel) }
    }

    /// Publishes a status event (`refund.status.<step>`) after commit.
    public func publishStatus(_ event: RefundStatusEvent) throws {
        try publish(event.routingKey, Envelope(type: MessageType.refundStatus, correlationId: event.refundId.description,
                                               payload: event))
    }

    /// Queues an event on the events exchange; it is published after commit by the outbox relay.
    public func publish<P: Codable & Sendable>(_ routingKey: String, _ envelope: Envelope<P>,
                                               headers: [String: String] = [:]) throws {
        let body = try encoder.encode(envelope)
        try enqueue(exchange: Topology.eventsExchange, routingKey: routingKey, messageId: envelope.id.description,
                    type: envelope.type, correlationId: envelope.correlationId,
                    headers: headers.merging([Topology.schemaVersionHeader: String(envelope.schemaVersion)]) { a, _ in a },
                    body: [UInt8](body))
    }

    func enqueue(exchange: String, routingKey: String, messageId: String, type: String, correlationId: String?,
                 headers: [String: String], body: [UInt8]) throws {
        let headersJSON = String(decoding: try JSONSerialization.data(withJSONObject: headers, options: [.sortedKeys]),
                                 as: UTF8.self)
        pending.append(OutboxRow(parameters: [exchange, routingKey, messageId, type, correlationId, headersJSON,
                                              PostgresBytes(body)]))
    }

    /// Sets (or moves) the timer `kind`/`key` to fire at `dueAt`; `fire` receives it in a later transaction.
    public func schedule(kind: String, key: String, dueAt: Date, payload: String = "{}") throws {
        try db.deferred(sql.upsertDeadline, [kind, key, dueAt, payload])
    }

    public func cancelDeadline(kind: String, key: String) throws {
        try db.deferred(sql.deleteDeadline, [kind, key])
    }
}

/// One outgoing message as the outbox's seven columns, waiting for the transaction's commit.
struct OutboxRow {
    /// Rows per INSERT: 7 parameters each, well under PostgreSQL's 65,535, and few distinct statements to prepare.
    static let perStatement = 64
    let parameters: [PostgresBindable?]
}
