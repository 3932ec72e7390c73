import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("Follow-up tickets on overdue refunds (DOMAIN.md §6)")
    struct FollowUpTests {
        typealias API = IntakeAPITests

        @Test("in review over 48 h: the buyer opens one ticket, reviewers see it and answer it; not before, not for another buyer's refund")
        func reviewOverdue() throws {
            let s = try ServiceProcesses(["intake", "auto-review"], env: API.relaxedRisk)
            defer { s.stop() }
            let o = TestStack.unique("fu")
            try API.place(s, API.order(o, paid: 9_900, kind: .membership))
            let applied = try s.http("POST", "/v1/refunds", token: API.b1,
                                     body: s.json(API.applyBody(o, reason: .notAsDescribed,
                                                                evidence: [.productPage, .differenceProof])),
                                     headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(applied.json["id"] as? String)
            _ = try s.waitForRefund(id, token: API.b1) { $0["state"] as? String == "manual_review" }

            let early = try s.http("POST", "/v1/refunds/\(id)/follow-up", token: API.b1, body: s.json(["note": "any news?"]))
            #expect(early.status == 409 && early.errorCode == "not_overdue")

            // 49 hours pass (the refund entered manual review then).
            try TestStack.database().query(
                "UPDATE intake.timeline SET at = at - interval '49 hours' WHERE refund_id = $1::uuid", [id])
            #expect(try s.http("POST", "/v1/refunds/\(id)/follow-up", token: API.b2, body: s.json([:])).status == 404,
                    "another buyer's refund")
            let opened = try s.http("POST", "/v1/refunds/\(id)/follow-up", token: API.b1,
                                    body: s.json(["note": "waiting for three days"]))
            #expect(opened.status == 201)
            #expect((opened.json["reason"] as? String)?.contains("manual_review for over 48 h") == true)
            let ticketId = try #require(opened.json["id"] as? String)
            let again = try s.http("POST", "/v1/refunds/\(id)/follow-up", token: API.b1, body: s.json([:]))
            #expect(again.status == 409 && again.errorCode == "ticket_open")

            #expect(try s.http("GET", "/v1/review/tickets", token: API.b1).status == 403)
            let queue = try s.http("GET", "/v1/review/tickets", token: API.r1).json["tickets"] as? [[String: Any]] ?? []
            let mine = try #require(queue.first { ($0["ticket"] as? [String: Any])?["id"] as? String == ticketId })
            #expect((mine["refund"] as? [String: Any])?["id"] as? String == id)

            let closed = try s.http("POST", "/v1/review/tickets/\(ticketId)/close", token: API.r1,
                                    body: s.json(["answer": "a reviewer decides today"]))
            #expect(closed.status == 200 && closed.json["state"] as? String == "closed")
            #expect(try s.http("POST", "/v1/review/tickets/\(ticketId)/close", token: API.r1,
                               body: s.json(["answer": "again"])).status == 409)
            let steps = (try s.http("GET", "/v1/refunds/\(id)", token: API.b1).json["timeline"] as? [[String: Any]] ?? [])
                .map { "\($0["step"] ?? ""):\($0["kind"] ?? "")" }
            #expect(steps.contains("follow_up:action") && steps.contains("follow_up_answered:action"), "\(steps)")
        }

        @Test("a refund no stage moves on (auto-review is down) is raised once after its promise: timeline line, reviewer ticket; a refund still within it is not")
        func stuckRaised() throws {
            // Only intake runs: nobody pre-checks the application, as if its message had been dead-lettered.
            let s = try ServiceProcesses(["intake"], env: ["STUCK_AFTER_SECONDS": "3", "STUCK_SWEEP_SECONDS": "0.5"])
            defer { s.stop() }
            let o = TestStack.unique("stuck")
            try API.place(s, API.order(o))
            let applied = try s.http("POST", "/v1/refunds", token: API.b1, body: s.json(API.applyBody(o)),
                                     headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(applied.json["id"] as? String)
            func steps() throws -> [String] {
                (try s.http("GET", "/v1/refunds/\(id)", token: API.b1).json["timeline"] as? [[String: Any]] ?? [])
                    .compactMap { $0["step"] as? String }
            }
            Thread.sleep(forTimeInterval: 1.5)
            #expect(try !steps().contains("stuck_raised"), "within its promise: not raised yet")
            #expect(try TestStack.eventually(15) { try steps().contains("stuck_raised") }, "raised after its promise")
            let queue = try s.http("GET", "/v1/review/tickets", token: API.r1).json["tickets"] as? [[String: Any]] ?? []
            let mine = queue.filter { ($0["refund"] as? [String: Any])?["id"] as? String == id }
            #expect(mine.count == 1, "one reviewer ticket")
            #expect(((mine.first?["ticket"] as? [String: Any])?["reason"] as? String)?.contains("stuck: submitted") == true,
                    "\(mine)")
            Thread.sleep(forTimeInterval: 2)  // more sweeps: raised once
            #expect(try steps().filter { $0 == "stuck_raised" }.count == 1)
            #expect(s.log("intake").contains("refund stuck"))
        }
    }
}
