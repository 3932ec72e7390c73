import Foundation
import RefundModel
import Testing

extension Component {
    /// Issue 14 §4: intake accepts an action only when it can still take effect. While one is on its way to the stage
    /// that applies it, intake's view of the refund is behind: a second one is refused rather than recorded and then
    /// silently ignored downstream.
    @Suite("Actions in flight: one at a time, a second is too late")
    struct ActionsInFlightTests {
        typealias API = IntakeAPITests

        @Test("a second reviewer decision, a withdrawal after approval and a second fallback choice get 409 too_late and leave no trace on the timeline; once a later step is back, actions are judged on the state again")
        func secondActionTooLate() throws {
            // Only intake: the steps the stages would publish are published here, as those stages, when the test says.
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            let o = TestStack.unique("inflight")
            try API.place(s, API.order(o))
            let applied = try s.http("POST", "/v1/refunds", token: API.b1, body: s.json(API.applyBody(o)),
                                     headers: ["Idempotency-Key": UUID().uuidString])
            let text = try #require(applied.json["id"] as? String)
            let id = try #require(RefundID(text))
            func step(_ step: RefundState, actor: String = "system") throws {
                try NotificationTests.status([RefundStatusEvent(refundId: id, orderId: o, buyerId: "b-1", step: step,
                                                                at: Date(), actor: actor,
                                                                amount: try Money(minorUnits: 3_000))])
                _ = try s.waitForRefund(text, token: API.b1) { $0["state"] as? String == step.rawValue }
            }

            try step(.manualReview)
            let first = try s.http("POST", "/v1/review/\(text)/decision", token: API.r1,
                                   body: s.json(["decision": "approve"]))
            #expect(first.status == 202, "accepted for auto-review to apply: \(first.json)")
            let second = try s.http("POST", "/v1/review/\(text)/decision", token: API.r2,
                                    body: s.json(["decision": "reject", "reason": "changed my mind"]))
            #expect(second.status == 409 && second.errorCode == "too_late", "\(second.status) \(second.json)")

            try step(.approved, actor: "reviewer:r-1")
            let withdraw = try s.http("POST", "/v1/refunds/\(text)/withdraw", token: API.b1)
            #expect(withdraw.status == 409 && withdraw.errorCode == "too_late", "withdrawn after approval: \(withdraw.json)")
            try step(.processing)
            try step(.payoutFailed, actor: "channel:wechat")
            let choose = { (key: String) in
                try s.http("POST", "/v1/refunds/\(text)/fallback", token: API.b1, body: s.json(["route": "balance"]),
                           headers: ["Idempotency-Key": key])
            }
            let chosen = try choose(UUID().uuidString)
            #expect(chosen.status == 200, "\(chosen.json)")
            let again = try choose(UUID().uuidString)
            #expect(again.status == 409 && again.errorCode == "too_late", "a second fallback: \(again.status) \(again.json)")
            let decisions = (try s.http("GET", "/v1/refunds/\(text)", token: API.b1).json["timeline"] as? [[String: Any]] ?? [])
                .filter { ["reviewer_decided", "fallback-chosen"].contains($0["step"] as? String) }
            #expect(decisions.count == 2, "only the accepted actions are on the timeline: \(decisions)")

            // Payout took the first choice: the refund moves on, and the next action is judged on its state again.
            try step(.processing, actor: "buyer")
            let late = try choose(UUID().uuidString)
            #expect(late.status == 409 && late.errorCode == "invalid_state", "\(late.status) \(late.json)")
        }
    }
}
