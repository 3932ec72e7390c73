import Foundation
import Postgres
import RefundModel
import Testing

extension Component {
    /// Issue 11 §4: no personal data at rest where it is no longer needed.
    @Suite("Retention: personal data of finished refunds is erased, request records expire")
    struct RetentionTests {
        @Test("account numbers, delivery addresses, idempotency records and inbox ids go after their window; open and recent ones stay")
        func erased() throws {
            let db = try TestStack.database()
            defer { db.close() }
            let s = try ServiceProcesses(["intake", "payout", "notification"], env: [
                "PERSONAL_DATA_RETENTION_SECONDS": "60", "IDEMPOTENCY_SECONDS": "60", "RETENTION_SWEEP_SECONDS": "0.5",
                "INBOX_RETENTION_SECONDS": "60",
            ])
            defer { s.stop() }
            let done = RefundID(), open = RefundID()
            let card = "6222020200112233445"
            for (id, state) in [(done, "succeeded"), (open, "failed")] {
                try db.query("""
                    INSERT INTO payout.payouts (refund_id, request_no, order_id, line_id, buyer_id, route, amount_fen,
                                                currency, state, account_no, updated_at)
                    VALUES ($1::uuid, $2::uuid, 'o-ret', 'L1', 'b-ret', 'bank_card', 100, 'CNY', $3, $4,
                            now() - interval '2 minutes')
                    """, [id.rawValue, UUID(), state, card])
            }
            // The pending one waits for its next try in an hour: the running sender must not take it (and, with no
            // gateway configured here, give it up, which would make it finished and erasable) during the test.
            for (event, state) in [("ev-\(done)", "sent"), ("ev-\(open)", "pending")] {
                try db.query("""
                    INSERT INTO notification.deliveries (event_id, medium, buyer_id, refund_id, step, address, title, body,
                                                         state, created_at, next_attempt_at)
                    VALUES ($1, 'sms', 'b-ret', $2::uuid, 'credited', '13800003333', 't', 'b', $3,
                            now() - interval '2 minutes', now() + interval '1 hour')
                    """, [event, done.rawValue, state])
            }
            let key = UUID().uuidString
            try db.query("""
                INSERT INTO intake.idempotency (caller, key, request_body, status, body, created_at)
                VALUES ('buyer:b-ret', $1, '{"account":"6222020200112233445"}', 200, '{}', now() - interval '2 minutes')
                """, [key])
            // Every stage's inbox: ids older than its window go, recent ones stay (they may still come back).
            let oldId = "old-\(UUID())", recentId = "recent-\(UUID())"
            for schema in ["intake", "payout"] {
                try db.query("INSERT INTO \(schema).inbox (message_id, received_at) VALUES ($1, now() - interval '2 minutes'), ($2, now())",
                             [oldId, recentId])
            }
            let erased = TestStack.eventually(10) {
                let accounts = (try? db.query("SELECT count(*) AS n FROM payout.payouts WHERE refund_id = $1::uuid AND account_no IS NULL",
                                             [done.rawValue])[0].int("n")) ?? 0
                let addresses = (try? db.query("SELECT count(*) AS n FROM notification.deliveries WHERE event_id = $1 AND address IS NULL",
                                              ["ev-\(done)"])[0].int("n")) ?? 0
                let keys = (try? db.query("SELECT count(*) AS n FROM intake.idempotency WHERE key = $1", [key])[0].int("n")) ?? 1
                let inbox = (try? db.query("""
                    SELECT count(*) AS n FROM (SELECT message_id FROM intake.inbox UNION ALL SELECT message_id FROM payout.inbox) i
                    WHERE message_id = $1
                    """, [oldId])[0].int("n")) ?? 1
                return accounts == 1 && addresses == 1 && keys == 0 && inbox == 0
            }
            #expect(erased, "finished records still hold personal data or old request bodies")
            // What is still needed stays: a failed payout waits for the buyer's fallback, a pending message for its send.
            #expect(try db.query("SELECT account_no FROM payout.payouts WHERE refund_id = $1::uuid", [open.rawValue])[0]
                .optionalString("account_no") == card)
            #expect(try db.query("SELECT address FROM notification.deliveries WHERE event_id = $1", ["ev-\(open)"])[0]
                .optionalString("address") == "13800003333")
            #expect(try db.query("""
                SELECT count(*) AS n FROM (SELECT message_id FROM intake.inbox UNION ALL SELECT message_id FROM payout.inbox) i
                WHERE message_id = $1
                """, [recentId])[0].int("n") == 2, "recent message ids stay")
            try db.query("DELETE FROM payout.payouts WHERE refund_id = ANY($1::uuid[])", ["{\(done),\(open)}"])
            try db.query("DELETE FROM notification.deliveries WHERE refund_id = $1::uuid", [done.rawValue])
        }
    }
}
