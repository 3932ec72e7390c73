import Foundation
import RefundModel
import Testing

extension Component {
    /// Issue 14 §3: the evidence a buyer sends is part of the refund as the buyer and the reviewers see it.
    @Suite("Evidence in the refund view and the review queue")
    struct EvidenceViewTests {
        typealias API = IntakeAPITests

        @Test("the buyer's own view and the reviewer's queue list every item, text verbatim, with when and by whom it was added; another buyer sees none")
        func evidenceShown() throws {
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            let o = TestStack.unique("evview")
            try API.place(s, API.order(o))
            let markup = #"<script>alert("x")</script> 卡密无法激活 & "quoted""#
            var body = API.applyBody(o)
            body["evidence"] = [["kind": "order_number", "reference": o],
                                ["kind": "activation_failure_log", "text": markup]]
            let before = Date().addingTimeInterval(-1)
            let applied = try s.http("POST", "/v1/refunds", token: API.b1, body: s.json(body),
                                     headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(applied.json["id"] as? String, "\(applied.status) \(applied.json)")
            let first = applied.json["evidence"] as? [[String: Any]] ?? []
            #expect(first.count == 2, "\(first)")
            #expect(first.last?["text"] as? String == markup, "verbatim: \(first)")
            #expect(first.allSatisfy { $0["addedBy"] as? String == "buyer" })
            #expect(first.compactMap { ($0["addedAt"] as? String).flatMap(TestStack.date) }.allSatisfy { $0 > before })

            // More evidence later (the auto-review stage is not running: the refund stays submitted).
            Thread.sleep(forTimeInterval: 0.05)
            let added = try s.http("POST", "/v1/refunds/\(id)/evidence", token: API.b1,
                                   body: s.json(["evidence": [["kind": "unused_proof", "text": "screenshot of the unused code"]]]))
            #expect(added.status == 200, "\(added.json)")
            let view = try s.http("GET", "/v1/refunds/\(id)", token: API.b1).json
            let items = view["evidence"] as? [[String: Any]] ?? []
            #expect(items.compactMap { $0["kind"] as? String } == ["order_number", "activation_failure_log", "unused_proof"])
            let times = items.compactMap { ($0["addedAt"] as? String).flatMap(TestStack.date) }
            #expect(times.count == 3 && times[2] > times[0], "\(items)")
            #expect(try s.http("GET", "/v1/refunds/\(id)", token: API.b2).status == 404, "another buyer's refund")

            // The reviewer's queue carries the same evidence once the case waits for a reviewer.
            try NotificationTests.status([RefundStatusEvent(refundId: RefundID(id)!, orderId: o, buyerId: "b-1",
                                                            step: .manualReview, at: Date(), actor: "system")])
            let inQueue = try TestStack.eventually(15) {
                let queue = try s.http("GET", "/v1/review/queue", token: API.r1).json["items"] as? [[String: Any]] ?? []
                guard let item = queue.first(where: { ($0["refund"] as? [String: Any])?["id"] as? String == id }) else {
                    return false
                }
                let evidence = (item["refund"] as? [String: Any])?["evidence"] as? [[String: Any]] ?? []
                return evidence.count == 3 && evidence[1]["text"] as? String == markup
            }
            #expect(inQueue, "the reviewer sees the evidence in the queue")
        }
    }
}
