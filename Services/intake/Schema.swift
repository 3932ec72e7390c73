import Postgres

/// Intake's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = [
        Migration(100, "orders, refunds, timeline, idempotency", """
            -- Order facts as the marketplace reported them (order.* events), one JSON document per order.
            CREATE TABLE orders (
                order_id text PRIMARY KEY,
                buyer_id text NOT NULL,
                facts jsonb NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
            -- Refunds as the buyer sees them: the state projected from refund.status.* events.
            CREATE TABLE refunds (
                refund_id uuid PRIMARY KEY,
                buyer_id text NOT NULL,
                order_id text NOT NULL,
                line_id text NOT NULL,
                state text NOT NULL,
                reason text NOT NULL,
                currency text NOT NULL,
                requested_fen bigint,
                amount_fen bigint,
                evidence jsonb NOT NULL DEFAULT '[]',
                preferred_route text NOT NULL,
                appealed boolean NOT NULL DEFAULT false,
                excluded_reviewer text,
                findings jsonb,
                expected_next_by timestamptz,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX refunds_order ON refunds (order_id);
            CREATE INDEX refunds_buyer ON refunds (buyer_id, created_at);
            -- One refund per order line is open at a time (DOMAIN.md §1).
            CREATE UNIQUE INDEX refunds_one_open_per_line ON refunds (order_id, line_id)
                WHERE state NOT IN ('credited', 'withdrawn', 'rejected_final');
            -- Every step of every refund, append-only, with its actor (DOMAIN.md §7).
            CREATE TABLE timeline (
                id bigserial PRIMARY KEY,
                refund_id uuid NOT NULL,
                step text NOT NULL,
                at timestamptz NOT NULL,
                actor text NOT NULL,
                rule text,
                explanation text,
                amount_fen bigint,
                missing_evidence jsonb,
                expected_next_by timestamptz,
                message_id text UNIQUE);
            CREATE INDEX timeline_refund ON timeline (refund_id, id);
            -- The first answer to each (caller, Idempotency-Key), replayed for the same request body.
            CREATE TABLE idempotency (
                caller text NOT NULL,
                key text NOT NULL,
                request_body text NOT NULL,
                status integer NOT NULL,
                body text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (caller, key));
            """),
        Migration(101, "overdue refunds", """
            -- Set when a stage reports a step past its expected time (a payout past the channel's arrival time).
            ALTER TABLE refunds ADD COLUMN overdue_since timestamptz;
            """),
        Migration(102, "in-app inbox, follow-up tickets", """
            -- The buyer's in-app messages (站内信) from notification, one per status event.
            CREATE TABLE messages (
                message_id text PRIMARY KEY,
                buyer_id text NOT NULL,
                refund_id uuid NOT NULL,
                step text NOT NULL,
                title text NOT NULL,
                body text NOT NULL,
                locale text NOT NULL,
                at timestamptz NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX messages_buyer ON messages (buyer_id, at DESC);
            -- Follow-up tickets on overdue refunds (DOMAIN.md §6), one open per refund, answered by a reviewer.
            CREATE TABLE tickets (
                ticket_id uuid PRIMARY KEY,
                refund_id uuid NOT NULL,
                buyer_id text NOT NULL,
                reason text NOT NULL,
                note text,
                state text NOT NULL CHECK (state IN ('open', 'closed')),
                opened_at timestamptz NOT NULL DEFAULT now(),
                closed_at timestamptz,
                closed_by text,
                answer text);
            CREATE UNIQUE INDEX tickets_one_open ON tickets (refund_id) WHERE state = 'open';
            """),
        Migration(103, "order-independent projection, early order events", """
            -- The refund's state is its latest step by (time, progress), not the last to arrive: the step it came
            -- from is kept beside it. Timeline rows carry the same progress to order steps of one instant.
            ALTER TABLE refunds ADD COLUMN state_at timestamptz,
                                ADD COLUMN state_progress integer NOT NULL DEFAULT 0;
            ALTER TABLE timeline ADD COLUMN progress integer NOT NULL DEFAULT 0;
            DROP INDEX timeline_refund;
            CREATE INDEX timeline_refund ON timeline (refund_id, at, progress, id);
            -- order.paid / delivered / consumed that came before their order.placed: applied when it arrives.
            CREATE TABLE early_order_events (
                message_id text PRIMARY KEY,
                order_id text NOT NULL,
                type text NOT NULL,
                event jsonb NOT NULL,
                received_at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE INDEX early_order_events_order ON early_order_events (order_id);
            """),
        Migration(104, "stuck refunds raised once", """
            -- When the stuck sweep raised the refund (a ticket, a timeline line); cleared when the refund moves on.
            ALTER TABLE refunds ADD COLUMN stuck_since timestamptz;
            CREATE INDEX refunds_system_steps ON refunds ((coalesce(state_at, created_at)))
                WHERE stuck_since IS NULL AND state IN ('submitted', 'approved', 'supplier_verification', 'processing');
            """),
        Migration(105, "actions in flight", """
            -- An action intake accepted (withdrawal, appeal, fallback choice, reviewer decision) and published, until
            -- a step at or after its time comes back: meanwhile a second one is refused (409 too_late), since the
            -- stage deciding it would find the first one already applied.
            ALTER TABLE refunds ADD COLUMN action_pending text,
                                ADD COLUMN action_pending_at timestamptz;
            """),
        Migration(106, "incidents", """
            -- What payout reported about money that may have moved where it should not (refund.incident), by kind;
            -- each also opened a reviewer ticket.
            ALTER TABLE refunds ADD COLUMN incidents text[] NOT NULL DEFAULT '{}';
            """),
        Migration(107, "every timeline step into the audit record", """
            -- DOMAIN.md §7: each step, as it is recorded here, also goes into audit.refund_steps (the provisioning's
            -- append-only, hash-chained record that no service may change), in the same transaction. Steps recorded
            -- before this migration go there first, in their order.
            INSERT INTO audit.refund_steps (refund_id, at, step, actor, rule, reason, recorded_by, recorded_at,
                                            prev_hash, hash)
            SELECT refund_id, at, step, actor, rule, explanation, '', now(), '', '' FROM timeline
            ORDER BY refund_id, at, progress, id;
            CREATE FUNCTION timeline_audited() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO audit.refund_steps (refund_id, at, step, actor, rule, reason, recorded_by, recorded_at,
                                                prev_hash, hash)
                VALUES (NEW.refund_id, NEW.at, NEW.step, NEW.actor, NEW.rule, NEW.explanation, '', now(), '', '');
                RETURN NULL;
            END $$;
            CREATE TRIGGER audited AFTER INSERT ON timeline FOR EACH ROW EXECUTE FUNCTION timeline_audited();
            """),
        Migration(108, "refund rates", """
            -- Orders and refunds per day of the order's placement, by product, supplier, reason, and the platform's
            -- ('all', a few shard rows): refund rates over any window up to 30 days from at most 30 rows per key.
            CREATE TABLE rate_days (
                dimension text NOT NULL CHECK (dimension IN ('product', 'supplier', 'reason', 'all')),
                key text NOT NULL,
                day date NOT NULL,
                orders integer NOT NULL DEFAULT 0,
                refunds integer NOT NULL DEFAULT 0,
                PRIMARY KEY (dimension, key, day));
            -- A product or supplier whose refund rate rose abnormally (RateSpike), once a day, with the refund that
            -- tipped it (its reviewer ticket).
            CREATE TABLE rate_flags (
                dimension text NOT NULL,
                key text NOT NULL,
                day date NOT NULL,
                orders integer NOT NULL,
                refunds integer NOT NULL,
                baseline_rate double precision NOT NULL,
                p_value double precision NOT NULL,
                refund_id uuid NOT NULL,
                flagged_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (dimension, key, day));
            """),
        Migration(109, "supplier records", """
            -- Each supplier's record as supplier-verification reports it (refund.supplier-record): every count only
            -- grows, so the largest seen of each is kept, in whatever order the reports arrive.
            CREATE TABLE supplier_records (
                supplier_id text PRIMARY KEY,
                answered_in_time integer NOT NULL,
                answered_late integer NOT NULL,
                silent integer NOT NULL,
                disputes_lost integer NOT NULL,
                deposit_charged_fen bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
            """),
        Migration(110, "supplier records: refused replies", """
            ALTER TABLE supplier_records ADD COLUMN refused_replies integer NOT NULL DEFAULT 0;
            """),
        Migration(111, "rate events, folded by the rate sweep", """
            -- What an order placed or a refund applied for adds to the rates, appended in the transaction that causes
            -- it and folded into rate_days by RateSweep (no hot row locked on the request's path). An order line is
            -- orders = 1 with no reason; an application is refunds = 1 with its reason, refund and buyer (the ticket).
            CREATE TABLE rate_events (
                id bigserial PRIMARY KEY,
                day date NOT NULL,
                product text NOT NULL,
                supplier text NOT NULL,
                reason text,
                orders integer NOT NULL,
                refunds integer NOT NULL,
                refund_id uuid,
                buyer_id text);
            """),
        Migration(112, "timeline reasons as data", """
            -- Issue 17 §3: a step's reason as a code with parameters (Explanation), rendered in the reader's language;
            -- `explanation` keeps the English words (the audit record, steps recorded before this).
            ALTER TABLE timeline ADD COLUMN reason jsonb;
            """),
    ]
}
