import Postgres

/// Auto-review's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = [
        Migration(100, "review cases", """
            -- One row per refund application: its state in review, the application as received, the last decision.
            CREATE TABLE cases (
                refund_id uuid PRIMARY KEY,
                buyer_id text NOT NULL,
                state text NOT NULL,
                application jsonb NOT NULL,
                decision jsonb,
                rejected_by text,
                applied_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX cases_buyer ON cases (buyer_id, applied_at);
            """),
    ]
}
