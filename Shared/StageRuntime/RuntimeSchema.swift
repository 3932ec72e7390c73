import Postgres

/// The tables the stage runtime keeps in every service's schema. Services add their own migrations after these
/// (numbered from 100, so the runtime can grow without renumbering theirs).
public enum RuntimeSchema {
    public static let migrations: [Migration] = [
        Migration(1, "runtime inbox, outbox, deadlines", """
            -- A message id seen once: the primary key makes a redelivery a no-op.
            CREATE TABLE inbox (
                message_id text PRIMARY KEY,
                received_at timestamptz NOT NULL DEFAULT now());
            -- Messages committed with the state change that caused them; the relay publishes then deletes them.
            CREATE TABLE outbox (
                id bigserial PRIMARY KEY,
                exchange text NOT NULL,
                routing_key text NOT NULL,
                message_id text NOT NULL,
                type text NOT NULL,
                correlation_id text,
                headers jsonb NOT NULL DEFAULT '{}',
                body bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                attempts integer NOT NULL DEFAULT 0,
                last_error text);
            -- Timers owned by this service (review SLA, supplier deadline, payout polling), one per (kind, key).
            CREATE TABLE deadlines (
                id bigserial PRIMARY KEY,
                kind text NOT NULL,
                key text NOT NULL,
                due_at timestamptz NOT NULL,
                payload jsonb NOT NULL DEFAULT '{}',
                UNIQUE (kind, key));
            CREATE INDEX deadlines_due ON deadlines (due_at);
            """),
        Migration(2, "outbox retry schedule", """
            -- A row the broker returned or refused waits before its next try, doubling up to a minute.
            ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz;
            """),
        Migration(3, "refused message counts", """
            -- Messages refused before any handler ran, by kind ("forged": not from the producer its key allows).
            CREATE TABLE refused_messages (
                kind text PRIMARY KEY,
                count bigint NOT NULL DEFAULT 0,
                last_at timestamptz NOT NULL DEFAULT now());
            """),
        Migration(4, "timers retried, then parked", """
            -- A timer is never lost: a failing handler is retried with a growing pause, and after too many tries (or
            -- crashes: each claim is counted before the handler runs) it is parked with its error for an operator.
            ALTER TABLE deadlines ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                                  ADD COLUMN last_error text,
                                  ADD COLUMN parked_at timestamptz;
            DROP INDEX deadlines_due;
            CREATE INDEX deadlines_due ON deadlines (due_at) WHERE parked_at IS NULL;
            """),
        Migration(5, "inbox pruned by age", """
            -- The inbox only has to outlive every redelivery of a message (INBOX_RETENTION_SECONDS): pruned by age.
            CREATE INDEX inbox_age ON inbox (received_at);
            """),
        Migration(6, "dead letters kept for operators", """
            -- Every message the stage dead-letters, as it arrived (body unmasked: only this service and operators
            -- read this table; the copy on <queue>.dlq is masked), until an operator replays or discards it
            -- (refundctl dlq). The same message dead-lettered again while held is one record.
            CREATE TABLE dead_letters (
                id bigserial PRIMARY KEY,
                queue text NOT NULL,
                message_id text NOT NULL,
                envelope_id text,
                type text NOT NULL,
                routing_key text NOT NULL,
                publisher text NOT NULL DEFAULT '',
                correlation_id text,
                reason text NOT NULL,
                body bytea,
                body_md5 text NOT NULL,
                dead_lettered_at timestamptz NOT NULL DEFAULT now(),
                state text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'replayed', 'discarded')),
                replay_message_id text,
                decided_at timestamptz,
                decided_by text,
                decision_note text);
            CREATE UNIQUE INDEX dead_letters_held_once ON dead_letters (message_id, body_md5) WHERE state = 'held';
            CREATE INDEX dead_letters_by_state ON dead_letters (state, id);
            """),
    ]
}

/// Every SQL statement of the runtime, built once per schema at start-up (identifiers cannot be `$n` parameters;
/// the schema name comes from code, never from input).
struct RuntimeSQL: Sendable {
    let schema: String
    let notifyChannel: String
    let insertInboxIds: String
    let claimOutbox: String
    let deleteOutbox: String
    let failOutbox: String
    let upsertDeadline: String
    let deleteDeadline: String
    let claimDeadlines: String
    let completeDeadline: String
    let retryDeadline: String
    let oldestOutbox: String
    let countRefused: String
    let pruneInbox: String
    let sample: String

    init(schema: String) {
        self.schema = schema
        notifyChannel = "outbox_" + schema
        // A window's message ids at once; returns those not seen before (an id twice in the list comes back once).
        insertInboxIds = """
            INSERT INTO \(schema).inbox (message_id) SELECT unnest($1::text[])
            ON CONFLICT DO NOTHING RETURNING message_id
            """
        claimOutbox = """
            SELECT id, exchange, routing_key, message_id, type, correlation_id, headers::text AS headers, body,
                   (EXTRACT(EPOCH FROM created_at))::bigint AS created
            FROM \(schema).outbox
            WHERE next_attempt_at IS NULL OR next_attempt_at <= now()
            ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED
            """
        deleteOutbox = "DELETE FROM \(schema).outbox WHERE id = ANY($1::bigint[])"
        failOutbox = """
            UPDATE \(schema).outbox SET attempts = attempts + 1, last_error = $2,
                   next_attempt_at = now() + make_interval(secs => least(60, power(2, attempts)::int))
            WHERE id = $1::bigint
            """
        upsertDeadline = """
            INSERT INTO \(schema).deadlines (kind, key, due_at, payload) VALUES ($1, $2, $3::timestamptz, $4::jsonb)
            ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0,
                                                  last_error = NULL, parked_at = NULL
            """
        deleteDeadline = "DELETE FROM \(schema).deadlines WHERE kind = $1 AND key = $2"
        // Claims due timers by leasing them (their due time moves `TIMER_LEASE_SECONDS` on) and counting the try, committed before
        // any handler runs: a handler that crashes the process is counted too, and no other instance takes the
        // timer while it is in hand.
        claimDeadlines = """
            WITH due AS (
                SELECT id, due_at FROM \(schema).deadlines WHERE due_at <= now() AND parked_at IS NULL
                ORDER BY due_at LIMIT $1::int FOR UPDATE SKIP LOCKED)
            UPDATE \(schema).deadlines d SET attempts = d.attempts + 1,
                   due_at = now() + make_interval(secs => $2::double precision)
            FROM due WHERE d.id = due.id
            RETURNING d.id, d.kind, d.key, due.due_at AS due_at, d.payload::text AS payload, d.attempts
            """
        completeDeadline = "DELETE FROM \(schema).deadlines WHERE id = $1::bigint AND attempts = $2::int"
        retryDeadline = """
            UPDATE \(schema).deadlines SET last_error = $2,
                   due_at = now() + make_interval(secs => least(600, power(2, attempts)::int)),
                   parked_at = CASE WHEN attempts >= $3::int THEN now() END
            WHERE id = $1::bigint
            """
        // Stuck means the relay is not publishing: rows never tried. Rows the broker returned or refused are retried
        // with a pause and logged with their error; restarting the instance would not help them, so they do not
        // make it unready.
        oldestOutbox = """
            SELECT coalesce(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::bigint AS age FROM \(schema).outbox
            WHERE attempts = 0
            """
        countRefused = """
            INSERT INTO \(schema).refused_messages (kind, count) VALUES ($1, 1)
            ON CONFLICT (kind) DO UPDATE SET count = refused_messages.count + 1, last_at = now()
            """
        // One batch of inbox rows older than $1 seconds (the retention sweep repeats it until it deletes nothing).
        pruneInbox = """
            DELETE FROM \(schema).inbox WHERE message_id IN (SELECT message_id FROM \(schema).inbox
            WHERE received_at < now() - make_interval(secs => $1::double precision) ORDER BY received_at LIMIT 1000)
            """
        // The metrics sampler's one statement (`MetricsSampler`): timer lag is how late the oldest due, unclaimed,
        // unparked timer is (a claimed one's due time has moved to the end of its lease).
        sample = """
            SELECT (SELECT count(*) FROM \(schema).outbox) AS outbox_depth,
                   (SELECT coalesce(EXTRACT(EPOCH FROM now() - min(created_at)) * 1000, 0)::bigint
                    FROM \(schema).outbox) AS outbox_age_ms,
                   (SELECT coalesce(EXTRACT(EPOCH FROM now() - min(due_at)) * 1000, 0)::bigint
                    FROM \(schema).deadlines WHERE due_at <= now() AND parked_at IS NULL) AS timer_lag_ms,
                   (SELECT count(*) FROM \(schema).deadlines WHERE parked_at IS NOT NULL) AS timers_parked,
                   (SELECT count(*) FROM \(schema).dead_letters WHERE state = 'held') AS dead_letters_held
            """
    }

    /// `rows` outgoing messages in one statement (7 parameters each, in `OutboxRow`'s order).
    func insertOutbox(rows: Int) -> String {
        let values = (0..<rows).map { r in
            let p = r * 7
            return "($\(p + 1), $\(p + 2), $\(p + 3), $\(p + 4), $\(p + 5), $\(p + 6)::jsonb, $\(p + 7)::bytea)"
        }
        return "INSERT INTO \(schema).outbox (exchange, routing_key, message_id, type, correlation_id, headers, body) VALUES "
            + values.joined(separator: ", ")
    }
}
