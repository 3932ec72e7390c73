import Postgres

/// Notification's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = [
        Migration(100, "contacts, deliveries, refused addresses", """
            -- How to reach each buyer (buyer.profile from the marketplace); the newest profile wins.
            CREATE TABLE contacts (
                buyer_id text PRIMARY KEY,
                phone text,
                email text,
                locale text NOT NULL,
                updated_at timestamptz NOT NULL);
            -- One row per status event and channel: the primary key is what makes each event notify each channel
            -- once, whatever redeliveries happen. Pending rows are sent by the channel's sender thread.
            CREATE TABLE deliveries (
                event_id text NOT NULL,
                channel text NOT NULL CHECK (channel IN ('sms', 'email', 'in_app')),
                buyer_id text NOT NULL,
                refund_id uuid NOT NULL,
                step text NOT NULL,
                address text,
                title text NOT NULL,
                body text NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'sent', 'refused', 'gave_up')),
                attempts integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz,
                PRIMARY KEY (event_id, channel));
            CREATE INDEX deliveries_due ON deliveries (channel, next_attempt_at) WHERE state = 'pending';
            CREATE INDEX deliveries_refund ON deliveries (refund_id);
            -- Addresses a gateway refused for good (invalid number, mailbox does not exist): not tried again.
            CREATE TABLE refused_addresses (
                channel text NOT NULL,
                address text NOT NULL,
                reason text NOT NULL,
                refused_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (channel, address));
            """),
        Migration(101, "the step each refund was last notified of", """
            -- A buyer is told of each step once, in order: an event repeating the step last notified (the supplier's
            -- answer after "asking the supplier") or older than it (arrived late from another queue or instance)
            -- sends nothing. One row per refund; the upsert's row lock serializes instances on the same refund.
            CREATE TABLE notified_steps (
                refund_id uuid PRIMARY KEY,
                step text NOT NULL,
                at timestamptz NOT NULL,
                progress integer NOT NULL);
            """),
        Migration(102, "a delivery's medium is called medium", """
            -- "Channel" means the payment channel everywhere else; SMS, e-mail and in-app are media.
            ALTER TABLE deliveries RENAME COLUMN channel TO medium;
            ALTER TABLE refused_addresses RENAME COLUMN channel TO medium;
            """),
    ]
}
