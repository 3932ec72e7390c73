import Foundation
import Postgres
import RefundModel
import Testing

extension Component {
    /// DOMAIN.md §7: every step of every refund in audit.refund_steps, append-only, hash-chained per refund.
    @Suite("Audit record")
    struct AuditTests {
        func refundctl(_ args: [String]) throws -> (status: Int32, output: String) {
            try TestStack.run(TestStack.binPath + "/refundctl", args,
                              env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
        }

        @Test("each step is in the audit record, chained; no service role may change it, nor the owner; a tampered record is found by refundctl audit verify")
        func appendOnlyAndChained() throws {
            let s = try ServiceProcesses(["intake", "auto-review"], env: IntakeAPITests.relaxedRisk)
            defer { s.stop() }
            let o = TestStack.unique("audit")
            try IntakeAPITests.place(s, IntakeAPITests.order(o))
            let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1,
                               body: s.json(IntakeAPITests.applyBody(o)), headers: ["Idempotency-Key": o])
            let id = try #require(r.json["id"] as? String, "\(r.status) \(r.json)")
            let view = try s.waitForRefund(id, token: IntakeAPITests.b1) {
                (($0["timeline"] as? [[String: Any]])?.count ?? 0) >= 2
            }
            let steps = (view["timeline"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
            let admin = try TestStack.database()
            defer { admin.close() }
            let audited = try admin.query("""
                SELECT step, actor, recorded_by, prev_hash, hash FROM audit.refund_steps WHERE refund_id = $1::uuid
                ORDER BY seq
                """, [id])
            #expect(audited.map { (try? $0.string("step")) ?? "" } == steps, "audit follows the timeline")
            #expect(try audited.first?.string("prev_hash") == "")
            #expect(try audited.allSatisfy { try $0.string("recorded_by") == "intake" })
            #expect(try refundctl(["audit", "verify", "--refund", id]).status == 0)
            let shown = try refundctl(["audit", "show", id])
            #expect(shown.status == 0 && shown.output.contains("submitted"), "\(shown.output)")

            // No service's login may change or remove a record (nor truncate the table); intake may only add.
            for service in ServiceName.allCases {
                let url = try TestStack.setting(service.rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
                    + "_DATABASE_URL")
                let db = try PostgresConnection(url: url)
                defer { db.close() }
                for sql in ["UPDATE audit.refund_steps SET reason = 'changed' WHERE refund_id = '\(id)'",
                            "DELETE FROM audit.refund_steps WHERE refund_id = '\(id)'",
                            "TRUNCATE audit.refund_steps"] {
                    #expect(throws: (any Error).self, "\(service.rawValue): \(sql)") { try db.simple(sql) }
                }
            }
            // Not even the owner: the trigger refuses.
            #expect(throws: (any Error).self) {
                try admin.simple("UPDATE audit.refund_steps SET reason = 'changed' WHERE refund_id = '\(id)'")
            }
            #expect(throws: (any Error).self) {
                try admin.simple("DELETE FROM audit.refund_steps WHERE refund_id = '\(id)'")
            }

            // Someone with the superuser's powers switches the triggers off and rewrites a reason: the chain check
            // names the record.
            try admin.simple("""
                BEGIN;
                ALTER TABLE audit.refund_steps DISABLE TRIGGER USER;
                UPDATE audit.refund_steps SET reason = 'rewritten' WHERE seq = (SELECT min(seq) FROM audit.refund_steps
                    WHERE refund_id = '\(id)');
                ALTER TABLE audit.refund_steps ENABLE TRIGGER USER;
                COMMIT;
                """)
            let verdict = try refundctl(["audit", "verify", "--refund", id])
            #expect(verdict.status == 6, "\(verdict.output)")
            #expect(verdict.output.contains(id) && verdict.output.contains("does not match its hash"), "\(verdict.output)")
        }
    }
}
