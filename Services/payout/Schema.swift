import Postgres

/// Payout's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = [
        Migration(100, "payouts, balance ledger", """
            -- One payout per refund. The request number is committed before any channel is called and reused by
            -- every retry: the channel's idempotency on it is what makes a refund paid at most once.
            CREATE TABLE payouts (
                refund_id uuid PRIMARY KEY,
                request_no uuid NOT NULL UNIQUE,
                order_id text NOT NULL,
                line_id text NOT NULL,
                buyer_id text NOT NULL,
                route text NOT NULL,
                amount_fen bigint NOT NULL CHECK (amount_fen > 0),
                currency text NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'processing', 'succeeded', 'failed')),
                called boolean NOT NULL DEFAULT false,
                attempts integer NOT NULL DEFAULT 0,
                last_status text,
                expected_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX payouts_line ON payouts (order_id, line_id);
            -- Platform balance: credited instantly, one entry per refund.
            CREATE TABLE balance_ledger (
                id bigserial PRIMARY KEY,
                buyer_id text NOT NULL,
                refund_id uuid NOT NULL UNIQUE,
                amount_fen bigint NOT NULL CHECK (amount_fen > 0),
                currency text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now());
            """),
        Migration(101, "designated accounts, batches, overdue, channel callbacks", """
            -- A fallback to a designated account pays again under a new request number: the failed attempt's
            -- number is kept (the channel answered ABNORMAL for it: it moved no money).
            ALTER TABLE payouts ADD COLUMN account_no text,
                                ADD COLUMN failed_request_no uuid,
                                ADD COLUMN send_at timestamptz,
                                ADD COLUMN overdue_at timestamptz;
            -- Every callback that passed the signature check, append-only. The nonce's uniqueness refuses replays.
            CREATE TABLE channel_callbacks (
                channel text NOT NULL,
                nonce text NOT NULL,
                request_no uuid NOT NULL,
                status text NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now(),
                outcome text NOT NULL,
                PRIMARY KEY (channel, nonce));
            """),
        Migration(102, "paid orders, refunds waiting for their order", """
            -- What each order paid, from the marketplace's own order.placed: the cap on what payout pays back and the
            -- route it pays to. Never taken from the message being checked. First placement wins (amounts paid do
            -- not change afterwards); the row is locked to serialize the over-refund check per order.
            CREATE TABLE orders (
                order_id text PRIMARY KEY,
                buyer_id text NOT NULL,
                payment_channel text NOT NULL,
                currency text NOT NULL,
                total_paid_fen bigint NOT NULL CHECK (total_paid_fen >= 0),
                line_paid jsonb NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now());
            -- A verified refund whose order.placed has not reached payout yet (no order between queues): it waits
            -- here, and is paid when the order arrives.
            CREATE TABLE waiting_for_order (
                refund_id uuid PRIMARY KEY,
                order_id text NOT NULL,
                verified jsonb NOT NULL,
                received_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX waiting_for_order_order ON waiting_for_order (order_id);
            """),
        Migration(103, "channel calls outside transactions", """
            -- When a ChannelCaller next calls or queries the channel for a payout (replaces the payout-call timers:
            -- a call is claimed and committed first, made outside any transaction, recorded in a new one).
            ALTER TABLE payouts ADD COLUMN next_call_at timestamptz;
            CREATE INDEX payouts_calls_due ON payouts (next_call_at) WHERE next_call_at IS NOT NULL;
            UPDATE payouts p SET next_call_at = d.due_at FROM deadlines d
            WHERE d.kind = 'payout-call' AND d.key = p.refund_id::text;
            DELETE FROM deadlines WHERE kind = 'payout-call';
            """),
        Migration(104, "superseded request numbers, incidents", """
            -- Every request number a fallback replaced (the channel had answered that it moved nothing), with what
            -- was called under it: a channel confirming one later has paid a refund that was paid another way.
            CREATE TABLE superseded_requests (
                request_no uuid PRIMARY KEY,
                refund_id uuid NOT NULL,
                channel text,
                amount_fen bigint NOT NULL,
                currency text NOT NULL,
                paid_instead text NOT NULL,
                superseded_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO superseded_requests (request_no, refund_id, channel, amount_fen, currency, paid_instead)
            SELECT failed_request_no, refund_id, NULL, amount_fen, currency, route FROM payouts
            WHERE failed_request_no IS NOT NULL ON CONFLICT DO NOTHING;
            -- What reconciliation and reviewers must look at; one per request number and kind.
            CREATE TABLE incidents (
                request_no uuid NOT NULL,
                kind text NOT NULL,
                refund_id uuid NOT NULL,
                channel text NOT NULL,
                amount_fen bigint NOT NULL,
                currency text NOT NULL,
                detected_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (request_no, kind));
            """),
    ]
}
