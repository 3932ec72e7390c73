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
    ]
}
