import Postgres

/// Supplier verification's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = [
        Migration(100, "requests, supplier stats, deposit ledger", """
            -- One verification request per approved refund, and how it ended.
            CREATE TABLE requests (
                request_id uuid PRIMARY KEY,
                refund_id uuid NOT NULL UNIQUE,
                supplier_id text NOT NULL,
                approved jsonb NOT NULL,
                state text NOT NULL CHECK (state IN ('waiting', 'answered', 'timed_out', 'disputed', 'closed')),
                answer jsonb,
                answer_by timestamptz NOT NULL,
                answered_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now());
            -- Each supplier's record, for its score.
            CREATE TABLE supplier_stats (
                supplier_id text PRIMARY KEY,
                answered_in_time integer NOT NULL DEFAULT 0,
                answered_late integer NOT NULL DEFAULT 0,
                silent integer NOT NULL DEFAULT 0,
                disputes_lost integer NOT NULL DEFAULT 0);
            -- Charges against suppliers' deposits (保证金), one per refund and cause.
            CREATE TABLE deposit_ledger (
                id bigserial PRIMARY KEY,
                supplier_id text NOT NULL,
                refund_id uuid NOT NULL,
                amount_fen bigint NOT NULL CHECK (amount_fen > 0),
                currency text NOT NULL,
                cause text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (refund_id, cause));
            """),
        Migration(101, "refused replies counted", """
            -- Replies the platform refused (malformed, another supplier's request, …): counted apart from silence.
            ALTER TABLE supplier_stats ADD COLUMN refused integer NOT NULL DEFAULT 0;
            """),
    ]
}
