import Foundation
import Postgres
import RefundModel

/// A refund as intake keeps it for the buyer.
struct RefundRecord: Sendable {
    var refundId: RefundID
    var buyerId: String
    var orderId: String
    var lineId: String
    var state: RefundState
    var reason: String
    var currency: String
    var requestedFen: Int64?
    var amountFen: Int64?
    var evidence: String
    var preferredRoute: String
    var appealed: Bool
    var excludedReviewer: String?
    var findings: String?
    var expectedNextBy: Date?
    var createdAt: Date
    /// Set while the current step is past its expected time (reported by the stage that owns it).
    var overdueSince: Date? = nil
    /// A path-changing action accepted and published but not yet answered by a step (`markActionPending`). One whose
    /// answer never came (a stage that ignored it) stops blocking after ten minutes: the stuck sweep raises the
    /// refund well before that matters.
    var actionInFlight: String? = nil
    /// Kinds of `refund.incident` reported for it (`possible_double_payment`).
    var incidents: [String] = []
}

struct TimelineStep: Sendable {
    var step: String
    var at: Date
    var actor: String
    var rule: String?
    var explanation: String?
    /// The reason as data (absent on steps recorded before reasons were): rendered in the reader's language.
    var reason: Explanation?
    var amountFen: Int64?
    var missingEvidence: String?
    var expectedNextBy: Date?
    /// A stage's status event (`status`) or an action intake recorded as it took it (`action`).
    var kind: String = "status"
}

/// Every SQL statement of intake.
struct RefundRepository {
    let db: PostgresConnection
    static let encoder = MessageCoding.encoder()
    static let decoder = MessageCoding.decoder()

    // MARK: Orders

    func saveOrder(_ facts: OrderFacts) throws {
        try db.deferred("""
            INSERT INTO orders (order_id, buyer_id, facts) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (order_id) DO UPDATE SET facts = EXCLUDED.facts, updated_at = now()
            """, [facts.orderId, facts.buyerId, try json(facts)])
    }

    /// Serializes the handling of one order's events for the rest of the transaction (an order not yet stored has
    /// no row to lock).
    func lockOrderKey(_ orderId: String) throws {
        _ = try db.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) IS NULL AS locked", [orderId])
    }

    /// An order event that came before its `order.placed`.
    func keepEarlyEvent(_ event: OrderEvent, messageId: String, type: String) throws {
        try db.deferred("""
            INSERT INTO early_order_events (message_id, order_id, type, event) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT DO NOTHING
            """, [messageId, event.orderId, type, try json(event)])
    }

    /// Takes (removes) the events that waited for the order, oldest first.
    func takeEarlyEvents(orderId: String) throws -> [OrderEvent] {
        try db.query("""
            DELETE FROM early_order_events WHERE order_id = $1 RETURNING event::text AS event, received_at
            """, [orderId])
            .sorted { (try? $0.date("received_at")) ?? .distantPast < (try? $1.date("received_at")) ?? .distantPast }
            .map { try Self.decoder.decode(OrderEvent.self, from: Data(try $0.string("event").utf8)) }
    }

    func order(_ id: String, forUpdate: Bool = false) throws -> OrderFacts? {
        guard let row = try db.query("SELECT facts::text AS facts FROM orders WHERE order_id = $1"
            + (forUpdate ? " FOR UPDATE" : ""), [id]).first else { return nil }
        return try Self.decoder.decode(OrderFacts.self, from: Data(try row.string("facts").utf8))
    }

    // MARK: Refunds

    func insert(_ r: RefundRecord) throws {
        try db.deferred("""
            INSERT INTO refunds (refund_id, buyer_id, order_id, line_id, state, reason, currency, requested_fen,
                                 evidence, preferred_route, created_at)
            VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::bigint, $9::jsonb, $10, $11::timestamptz)
            """, [r.refundId.rawValue, r.buyerId, r.orderId, r.lineId, r.state.rawValue, r.reason, r.currency,
                  r.requestedFen, r.evidence, r.preferredRoute, r.createdAt])
    }

    private static let columns = """
        refund_id, buyer_id, order_id, line_id, state, reason, currency, requested_fen, amount_fen,
        evidence::text AS evidence, preferred_route, appealed, excluded_reviewer, findings::text AS findings,
        expected_next_by, created_at, overdue_since,
        CASE WHEN action_pending_at > now() - interval '10 minutes' THEN action_pending END AS action_in_flight,
        array_to_string(incidents, ',') AS incidents
        """

    func refund(_ id: RefundID, forUpdate: Bool = false) throws -> RefundRecord? {
        try db.query("SELECT \(Self.columns) FROM refunds WHERE refund_id = $1::uuid" + (forUpdate ? " FOR UPDATE" : ""),
                     [id.rawValue]).first.map(record)
    }

    func refunds(orderId: String) throws -> [RefundRecord] {
        try db.query("SELECT \(Self.columns) FROM refunds WHERE order_id = $1 ORDER BY created_at", [orderId])
            .map(record)
    }

    /// Manual review, appeals and supplier disputes, overdue first, then oldest first.
    func reviewQueue(now: Date) throws -> [RefundRecord] {
        try db.query("""
            SELECT \(Self.columns) FROM refunds WHERE state = ANY($2::text[])
            ORDER BY (expected_next_by IS NOT NULL AND expected_next_by < $1::timestamptz) DESC, created_at
            LIMIT 200
            """, [now, PostgresArray.text(RefundState.awaitingReviewer.map(\.rawValue))]).map(record)
    }

    /// The buyer's refunds by state, for the reviewer.
    func history(buyerId: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try db.query("SELECT state, count(*) AS n FROM refunds WHERE buyer_id = $1 GROUP BY state",
                                [buyerId]) {
            out[try row.string("state")] = try row.int("n")
        }
        return out
    }

    /// What an order and one of its lines already have committed to refunds, and whether that line has a refund
    /// still open, in one round trip (the application's checks need all three).
    func lineStanding(orderId: String, lineId: String) throws -> (orderFen: Int64, lineFen: Int64, openOnLine: Bool) {
        let row = try db.query("""
            SELECT coalesce(sum(coalesce(amount_fen, requested_fen, 0)) FILTER (WHERE state = ANY($2::text[])), 0)::bigint
                       AS order_fen,
                   coalesce(sum(coalesce(amount_fen, requested_fen, 0))
                            FILTER (WHERE state = ANY($2::text[]) AND line_id = $3), 0)::bigint AS line_fen,
                   coalesce(bool_or(line_id = $3 AND NOT state = ANY($4::text[])), false)
                       AS open_on_line
            FROM refunds WHERE order_id = $1
            """, [orderId, PostgresArray.text(RefundState.committed.map(\.rawValue)), lineId,
                  PostgresArray.text(RefundState.terminal.map(\.rawValue))])[0]
        return (try row.int64("order_fen"), try row.int64("line_fen"), try row.bool("open_on_line"))
    }

    func addEvidence(_ id: RefundID, _ evidence: [StoredEvidence]) throws {
        try db.query("UPDATE refunds SET evidence = evidence || $2::jsonb, updated_at = now() WHERE refund_id = $1::uuid",
                     [id.rawValue, try json(evidence)])
    }

    func markAppealed(_ id: RefundID) throws {
        try db.query("UPDATE refunds SET appealed = true, updated_at = now() WHERE refund_id = $1::uuid", [id.rawValue])
    }

    /// Projects a status event. The refund's state is its latest step by (time, progress), whatever order the
    /// events arrive in (several instances, relays and queues: there is no arrival order to trust); an older step
    /// only joins the timeline. Facts an older step carries that nothing newer set (findings, the excluded
    /// reviewer) are kept, and an action in flight that it answers is done.
    ///
    /// One statement whose answer nobody waits for (`deferred`): a window's events go to the database together,
    /// with its COMMIT, instead of a round trip each (intake projects three to six events per refund, and its
    /// consumer is the one that falls behind first). The two UPDATEs exclude each other: `kept` only runs when
    /// `changed` changed nothing, so the row is modified once.
    func apply(_ e: RefundStatusEvent, messageId: String) throws {
        try db.deferred("""
            WITH changed AS (
                UPDATE refunds SET state = $2, amount_fen = coalesce($3::bigint, amount_fen),
                       findings = coalesce($4::jsonb, findings), excluded_reviewer = coalesce($5, excluded_reviewer),
                       expected_next_by = $6::timestamptz, updated_at = now(),
                       overdue_since = CASE WHEN $7::boolean THEN coalesce(overdue_since, $8::timestamptz)
                                            WHEN state <> $2 THEN NULL ELSE overdue_since END,
                       stuck_since = CASE WHEN state <> $2 THEN NULL ELSE stuck_since END,
                       action_pending = CASE WHEN $8::timestamptz >= action_pending_at THEN NULL ELSE action_pending END,
                       action_pending_at = CASE WHEN $8::timestamptz >= action_pending_at THEN NULL
                                                ELSE action_pending_at END,
                       state_at = $8::timestamptz, state_progress = $9::int
                WHERE refund_id = $1::uuid
                  AND (coalesce(state_at, '-infinity'), state_progress) <= ($8::timestamptz, $9::int)
                RETURNING 1),
            kept AS (
                UPDATE refunds SET findings = coalesce(findings, $4::jsonb),
                       excluded_reviewer = coalesce(excluded_reviewer, $5),
                       action_pending = CASE WHEN $8::timestamptz >= action_pending_at THEN NULL ELSE action_pending END,
                       action_pending_at = CASE WHEN $8::timestamptz >= action_pending_at THEN NULL ELSE action_pending_at END
                WHERE refund_id = $1::uuid AND NOT EXISTS (SELECT 1 FROM changed)
                RETURNING 1),
            step AS (\(Self.insertStepAfterProjection))
            SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM kept) AS n
            """, [e.refundId.rawValue, e.step.rawValue, e.amount?.minorUnits, try e.findings.map(json),
                  e.excludedReviewer, e.expectedNextBy, e.overdue == true, e.at, e.step.progress]
                + (try stepParameters(e.refundId, step: e.step.rawValue, at: e.at, actor: e.actor,
                                      rule: e.rule?.rawValue, explanation: e.explanation, reason: e.reason,
                                      amountFen: e.amount?.minorUnits, missing: e.missingEvidence,
                                      expectedNextBy: e.expectedNextBy, messageId: messageId)))
    }

    /// An action accepted and published at `at` (to the millisecond, as its message carries it), until a step at or
    /// after that time is projected.
    func markActionPending(_ id: RefundID, _ action: String, at: Date) throws {
        try db.deferred("UPDATE refunds SET action_pending = $2, action_pending_at = $3 WHERE refund_id = $1::uuid",
                     [id.rawValue, action, MessageCoding.millis(at)])
    }

    /// Times are kept to the millisecond, as messages carry them: an action stored with microseconds would sort after
    /// a step it caused that a stage stamped within the same millisecond.
    func appendStep(_ id: RefundID, step: String, at: Date, actor: String, rule: String? = nil,
                    because reason: Explanation? = nil, amountFen: Int64? = nil, missing: [String]? = nil,
                    expectedNextBy: Date? = nil, messageId: String? = nil) throws {
        try db.deferred(Self.insertStep, try stepParameters(id, step: step, at: at, actor: actor, rule: rule,
                                                         explanation: reason?.english, reason: reason,
                                                         amountFen: amountFen,
                                                         missing: missing, expectedNextBy: expectedNextBy,
                                                         messageId: messageId))
    }

    /// The one statement that adds a timeline step, with its parameters from `$1` (or after `offset` others).
    private static func timelineInsert(offset: Int) -> String {
        let p = (1...12).map { "$\($0 + offset)" }
        return """
            INSERT INTO timeline (refund_id, step, at, actor, rule, explanation, amount_fen, missing_evidence,
                                  expected_next_by, message_id, progress, reason)
            VALUES (\(p[0])::uuid, \(p[1]), \(p[2])::timestamptz, \(p[3]), \(p[4]), \(p[5]), \(p[6])::bigint,
                    \(p[7])::jsonb, \(p[8])::timestamptz, \(p[9]), \(p[10])::int, \(p[11])::jsonb)
            ON CONFLICT (message_id) DO NOTHING
            """
    }
    private static let insertStep = timelineInsert(offset: 0)
    private static let insertStepAfterProjection = timelineInsert(offset: 9)

    private func stepParameters(_ id: RefundID, step: String, at: Date, actor: String, rule: String?,
                                explanation: String?, reason: Explanation?, amountFen: Int64?, missing: [String]?,
                                expectedNextBy: Date?, messageId: String?) throws -> [PostgresBindable?] {
        [id.rawValue, step, MessageCoding.millis(at), actor, rule, explanation, amountFen, try missing.map(json),
         expectedNextBy, messageId, RefundState(rawValue: step)?.progress ?? 0, try reason.map(json)]
    }

    func timeline(_ id: RefundID) throws -> [TimelineStep] {
        try db.query("""
            SELECT step, at, actor, rule, explanation, reason::text AS reason, amount_fen,
                   missing_evidence::text AS missing_evidence, expected_next_by,
                   message_id IS NOT NULL AS from_stage FROM timeline
            WHERE refund_id = $1::uuid ORDER BY at, progress, id
            """, [id.rawValue]).map { row in
            TimelineStep(step: try row.string("step"), at: try row.date("at"), actor: try row.string("actor"),
                         rule: try row.optionalString("rule"), explanation: try row.optionalString("explanation"),
                         reason: try row.optionalString("reason").flatMap {
                             try? Self.decoder.decode(Explanation.self, from: Data($0.utf8))
                         },
                         amountFen: try row.optionalInt64("amount_fen"),
                         missingEvidence: try row.optionalString("missing_evidence"),
                         expectedNextBy: try row.optionalDate("expected_next_by"),
                         kind: try row.bool("from_stage") ? "status" : "action")
        }
    }

    // MARK: Idempotency

    func idempotent(caller: String, key: String) throws -> (requestBody: String, status: Int, body: String)? {
        guard let row = try db.query("SELECT request_body, status, body FROM idempotency WHERE caller = $1 AND key = $2",
                                     [caller, key]).first else { return nil }
        return (try row.string("request_body"), try row.int("status"), try row.string("body"))
    }

    func remember(caller: String, key: String, requestBody: String, status: Int, body: String) throws {
        try db.deferred("""
            INSERT INTO idempotency (caller, key, request_body, status, body) VALUES ($1, $2, $3, $4::int, $5)
            """, [caller, key, requestBody, status, body])
    }

    // MARK: Helpers

    private func record(_ row: PostgresRow) throws -> RefundRecord {
        guard let id = RefundID(try row.string("refund_id")), let state = RefundState(rawValue: try row.string("state"))
        else { throw PostgresError(.decode, "bad refund row") }
        return RefundRecord(
            refundId: id, buyerId: try row.string("buyer_id"), orderId: try row.string("order_id"),
            lineId: try row.string("line_id"), state: state, reason: try row.string("reason"),
            currency: try row.string("currency"), requestedFen: try row.optionalInt64("requested_fen"),
            amountFen: try row.optionalInt64("amount_fen"), evidence: try row.string("evidence"),
            preferredRoute: try row.string("preferred_route"), appealed: try row.bool("appealed"),
            excludedReviewer: try row.optionalString("excluded_reviewer"),
            findings: try row.optionalString("findings"), expectedNextBy: try row.optionalDate("expected_next_by"),
            createdAt: try row.date("created_at"), overdueSince: try row.optionalDate("overdue_since"),
            actionInFlight: try row.optionalString("action_in_flight"),
            incidents: try row.string("incidents").split(separator: ",").map(String.init))
    }

    /// Flags the refund with an incident kind; returns its buyer when the flag is new (nil: already flagged, or no
    /// such refund here).
    func flagIncident(_ id: RefundID, kind: String) throws -> String? {
        try db.query("""
            UPDATE refunds SET incidents = array_append(incidents, $2) WHERE refund_id = $1::uuid
              AND NOT ($2 = ANY(incidents))
            RETURNING buyer_id
            """, [id.rawValue, kind]).first?.string("buyer_id")
    }

    func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try Self.encoder.encode(v), as: UTF8.self) }
}
