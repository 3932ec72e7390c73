import Foundation
import Postgres
import RefundModel

/// The dead letters a stage keeps in its schema (`dead_letters`, runtime migration 6) and the operators' decisions
/// on them (`refundctl dlq`). The masked copy on `<queue>.dlq` tells that something was dead-lettered; this record
/// is what can be acted on: the message as it arrived, its reason, where it came from.
///
/// A replay re-publishes the message, byte for byte, through the owning service's outbox on the dead-letter
/// exchange under `Topology.replayRoutingKey(of: queue)`, which reaches that queue alone. The stage accepts it only
/// when its own login published it, and then judges it as the original: the original routing key and validated
/// publisher (carried in headers from this record) go through the producers table as any message does. Once:
/// the record moves from `held` to `replayed` in the transaction that writes the outbox row, and the inbox forgets
/// the message's id in that same transaction, so the replay is handled once and any copy of it is a duplicate.
public struct DeadLetterRecords: Sendable {
    public let schema: String

    public init(schema: String) { self.schema = schema }

    /// What a stage knows of a message it dead-letters.
    struct NewLetter {
        var queue: String
        var messageId: String
        var envelopeId: String?
        var type: String
        var routingKey: String
        var publisher: String?
        var correlationId: String?
        var reason: String
        /// Nil when too large to keep (it was refused for its size; replaying it could only fail again).
        var body: [UInt8]?
    }

    /// Records a dead letter in the transaction that dead-letters it; the same message (id and bytes) dead-lettered
    /// again while its record is held is not recorded twice.
    func record(_ l: NewLetter, on db: PostgresConnection) throws {
        try db.execute("""
            INSERT INTO \(schema).dead_letters (queue, message_id, envelope_id, type, routing_key, publisher,
                correlation_id, reason, body, body_md5)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bytea, coalesce(md5($9::bytea), ''))
            ON CONFLICT (message_id, body_md5) WHERE state = 'held' DO NOTHING
            """, [l.queue, l.messageId, l.envelopeId, l.type, l.routingKey, l.publisher ?? "", l.correlationId,
                  PersonalData.mask(String(l.reason.prefix(500))), l.body.map(PostgresBytes.init)])
    }

    /// One record as an operator sees it: no body (see `maskedBody`).
    public struct Letter: Codable, Sendable {
        public var id: Int64
        public var queue: String
        public var messageId: String
        public var type: String
        public var routingKey: String
        public var publisher: String
        public var reason: String
        public var deadLetteredAt: Date
        public var state: String
        public var bodyKept: Bool
        public var replayMessageId: String?
        public var decidedAt: Date?
        public var decidedBy: String?
        public var decisionNote: String?
    }

    private var columns: String {
        """
        id, queue, message_id, envelope_id, type, routing_key, publisher, correlation_id, reason, dead_lettered_at,
        state, body IS NOT NULL AS body_kept, replay_message_id, decided_at, decided_by, decision_note
        """
    }

    private func letter(_ r: PostgresRow) throws -> Letter {
        Letter(id: try r.int64("id"), queue: try r.string("queue"), messageId: try r.string("message_id"),
               type: try r.string("type"), routingKey: try r.string("routing_key"),
               publisher: try r.string("publisher"), reason: try r.string("reason"),
               deadLetteredAt: try r.date("dead_lettered_at"), state: try r.string("state"),
               bodyKept: try r.bool("body_kept"), replayMessageId: try r.optionalString("replay_message_id"),
               decidedAt: try r.optionalDate("decided_at"), decidedBy: try r.optionalString("decided_by"),
               decisionNote: try r.optionalString("decision_note"))
    }

    /// Records in `state` (all states when nil), oldest first.
    public func list(state: String?, limit: Int, on db: PostgresConnection) throws -> [Letter] {
        try db.query("""
            SELECT \(columns) FROM \(schema).dead_letters WHERE $1::text IS NULL OR state = $1
            ORDER BY id LIMIT $2::int
            """, [state, limit]).map(letter)
    }

    /// The record and its body with personal data masked (phone numbers, e-mails, account numbers).
    public func show(id: Int64, on db: PostgresConnection) throws -> (Letter, maskedBody: String?) {
        guard let r = try db.query("SELECT \(columns), body FROM \(schema).dead_letters WHERE id = $1::bigint", [id])
            .first else { throw DeadLetterDecisionError.notFound(id) }
        let body = try r.isNull("body") ? nil : String(decoding: PersonalData.maskedBody(try r.bytes("body")),
                                                        as: UTF8.self)
        return (try letter(r), body)
    }

    /// Sends a held record back to its queue, once. Returns the replay's AMQP message id.
    public func replay(id: Int64, by operatorName: String, note: String?, on db: PostgresConnection) throws -> String {
        let sql = RuntimeSQL(schema: schema)
        return try db.transaction { db in
            let r = try held(id, on: db)
            guard !(try r.isNull("body")) else { throw DeadLetterDecisionError.bodyNotKept(id) }
            let replayId = UUID().uuidString.lowercased()
            // The message's id is forgotten, so the stage handles the replay as new; the record's state (held, under
            // this row lock) is what allows a replay once.
            if let envelopeId = try r.optionalString("envelope_id") {
                try db.execute("DELETE FROM \(schema).inbox WHERE message_id = $1", [envelopeId])
            }
            let publisher = try r.string("publisher")
            let headers = DeadLetterOrigin(routingKey: try r.string("routing_key"),
                                           publisher: publisher.isEmpty ? nil : publisher)
                .replayHeaders(record: "\(schema).dead_letters/\(id)")
            let headersJSON = String(decoding: try JSONEncoder().encode(headers), as: UTF8.self)
            try db.execute(sql.insertOutbox(rows: 1), [
                Topology.deadLetterExchange, Topology.replayRoutingKey(of: try r.string("queue")), replayId,
                try r.string("type"), try r.optionalString("correlation_id"), headersJSON,
                PostgresBytes(try r.bytes("body")),
            ])
            try decide(id, state: "replayed", replayId: replayId, by: operatorName, note: note, on: db)
            try db.notify(sql.notifyChannel)
            return replayId
        }
    }

    /// Marks a held record as dealt with: it stays for the record, and is never replayed.
    public func discard(id: Int64, by operatorName: String, note: String, on db: PostgresConnection) throws {
        try db.transaction { db in
            _ = try held(id, on: db)
            try decide(id, state: "discarded", replayId: nil, by: operatorName, note: note, on: db)
        }
    }

    private func held(_ id: Int64, on db: PostgresConnection) throws -> PostgresRow {
        guard let r = try db.query("""
            SELECT \(columns), body FROM \(schema).dead_letters WHERE id = $1::bigint FOR UPDATE
            """, [id]).first else { throw DeadLetterDecisionError.notFound(id) }
        let state = try r.string("state")
        guard state == "held" else { throw DeadLetterDecisionError.alreadyDecided(id, state: state) }
        return r
    }

    private func decide(_ id: Int64, state: String, replayId: String?, by operatorName: String, note: String?,
                        on db: PostgresConnection) throws {
        try db.execute("""
            UPDATE \(schema).dead_letters SET state = $2, replay_message_id = $3, decided_at = now(), decided_by = $4,
                   decision_note = $5
            WHERE id = $1::bigint
            """, [id, state, replayId, operatorName, note.map { PersonalData.mask(String($0.prefix(500))) }])
    }
}

/// Why an operator's decision on a dead letter was not taken.
public enum DeadLetterDecisionError: Error, CustomStringConvertible {
    case notFound(Int64)
    case alreadyDecided(Int64, state: String)
    case bodyNotKept(Int64)

    public var description: String {
        switch self {
        case .notFound(let id): return "no dead letter \(id)"
        case .alreadyDecided(let id, let state): return "dead letter \(id) is already \(state)"
        case .bodyNotKept(let id):
            return "dead letter \(id) was too large to keep its body (MAX_MESSAGE_BYTES): it cannot be replayed"
        }
    }
}
