import Foundation
import RefundModel
import Testing

extension Component {
    /// ARCHITECTURE.md: "a projection is a function of the set of events it has seen, not of their arrival order";
    /// "facts only grow; not seen yet waits".
    @Suite("Intake's projections do not depend on arrival order")
    struct ProjectionTests {
        static func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }

        @Test("status events in any order: the latest step wins, the timeline reads in order, nothing stays processing")
        func statusInAnyOrder() throws {
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            for sameInstant in [false, true] {
                let order = TestStack.unique("proj")
                try IntakeAPITests.place(s, IntakeAPITests.order(order))
                let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1,
                                   body: s.json(IntakeAPITests.applyBody(order)),
                                   headers: ["Idempotency-Key": UUID().uuidString])
                let text = try #require(r.json["id"] as? String, "apply answered \(r.status)")
                let id = try #require(RefundID(text))
                let t0 = Date().addingTimeInterval(1)
                func event(_ step: RefundState, _ offset: Double, actor: String = "system") -> RefundStatusEvent {
                    RefundStatusEvent(refundId: id, orderId: order, buyerId: "b-1", step: step,
                                      at: t0.addingTimeInterval(offset), actor: actor, amount: Self.fen(3_000))
                }
                // Two consumers (or a relay retry) deliver credited first: the balance route stamps processing and
                // credited with one instant, so the `sameInstant` round ties them.
                let later = sameInstant ? 0.2 : 0.4
                try NotificationTests.status([event(.credited, later, actor: "channel:balance")])
                try NotificationTests.status([event(.processing, 0.2)])
                try NotificationTests.status([event(.approved, 0.1)])
                let done = try s.waitForRefund(id.description, token: IntakeAPITests.b1) { json in
                    (json["timeline"] as? [[String: Any]] ?? []).count >= 4
                }
                #expect(done["state"] as? String == "credited", "sameInstant \(sameInstant): \(done["state"] ?? "-")")
                let steps = (done["timeline"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
                #expect(steps == ["submitted", "approved", "processing", "credited"], "\(steps)")
            }
        }

        @Test("order facts only grow: early events wait for order.placed, a repeated order.placed erases nothing")
        func orderFactsGrow() throws {
            let s = try ServiceProcesses(["intake"])
            defer { s.stop() }
            let db = try TestStack.database()
            defer { db.close() }
            let order = TestStack.unique("facts")
            let consumed = Date().addingTimeInterval(-600)
            // consumed before placed: not a dead letter, it waits.
            try Marketplace.publish(Topology.Key.orderConsumed, OrderEvent(orderId: order, lineId: "L1",
                                                                           consumedAt: consumed))
            #expect(try TestStack.eventually(10) {
                !(try db.query("SELECT 1 AS one FROM intake.early_order_events WHERE order_id = $1", [order])).isEmpty
            })
            let facts = IntakeAPITests.order(order)
            try IntakeAPITests.place(s, facts)
            func known() throws -> OrderFacts {
                let text = try db.query("SELECT facts::text AS f FROM intake.orders WHERE order_id = $1", [order])[0]
                    .string("f")
                return try MessageCoding.decoder().decode(OrderFacts.self, from: Data(text.utf8))
            }
            #expect(try known().lines[0].consumedAt != nil, "the early event was applied when the order arrived")
            // The marketplace sends order.placed again (a retry of its own): the consumption stays known.
            try Marketplace.place(facts)
            try Marketplace.publish(Topology.Key.orderPaid, OrderEvent(orderId: order, paidAt: Date()))
            usleep(1_500_000)
            let after = try known()
            #expect(after.lines[0].consumedAt != nil, "a repeated order.placed erased the consumption")
            #expect(abs((after.paidAt ?? .distantPast).timeIntervalSince(facts.paidAt!)) < 1, "first payment time stands")
        }
    }
}

extension Component.ProjectionTests {
    @Test("a line refunded in full takes no second refund, though other lines keep the order open")
    func lineCap() throws {
        let s = try ServiceProcesses(["intake"])
        defer { s.stop() }
        let order = TestStack.unique("lines")
        var facts = Component.IntakeAPITests.order(order, paid: 5_000)
        var second = facts.lines[0]
        second.lineId = "L2"
        second.paid = Self.fen(3_000)
        second.listPrice = Self.fen(3_000)
        facts.lines.append(second)
        try Component.IntakeAPITests.place(s, facts)
        let r = try s.http("POST", "/v1/refunds", token: Component.IntakeAPITests.b1, body: s.json(Component.IntakeAPITests.applyBody(order)),
                           headers: ["Idempotency-Key": UUID().uuidString])
        let text = try #require(r.json["id"] as? String, "\(r.status)")
        let id = try #require(RefundID(text))
        let t0 = Date()
        func event(_ step: RefundState, _ offset: Double) -> RefundStatusEvent {
            RefundStatusEvent(refundId: id, orderId: order, buyerId: "b-1", step: step, at: t0.addingTimeInterval(offset),
                              actor: "system", amount: Self.fen(5_000))
        }
        try Component.NotificationTests.status([event(.approved, 0.1), event(.processing, 0.2), event(.credited, 0.3)])
        _ = try s.waitForRefund(id.description, token: Component.IntakeAPITests.b1) { $0["state"] as? String == "credited" }
        let again = try s.http("POST", "/v1/refunds", token: Component.IntakeAPITests.b1,
                               body: s.json(Component.IntakeAPITests.applyBody(order)), headers: ["Idempotency-Key": UUID().uuidString])
        #expect(again.status == 422 && again.errorCode == "amount_exceeds_refundable", "\(again.status)")
        var other = Component.IntakeAPITests.applyBody(order)
        other["lineId"] = "L2"
        #expect(try s.http("POST", "/v1/refunds", token: Component.IntakeAPITests.b1, body: s.json(other),
                           headers: ["Idempotency-Key": UUID().uuidString]).status == 201)
    }
}
