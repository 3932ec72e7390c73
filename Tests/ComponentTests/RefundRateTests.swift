import Foundation
import RefundModel
import Testing

extension Component {
    /// DOMAIN.md §7: refund rates kept as orders and refunds arrive, and a product whose rate rises abnormally flagged.
    @Suite("Refund rates")
    struct RefundRateTests {
        @Test("a planted spike on one product is flagged and ticketed; a steady product and one with too few orders are not")
        func spikeFlagged() throws {
            let s = try ServiceProcesses(["intake"], env: IntakeAPITests.relaxedRisk
                .merging(["RATE_LIMIT_WRITES_PER_MINUTE": "1000"]) { $1 })
            defer { s.stop() }
            let run = TestStack.unique("rates")
            let (spike, steady, low) = ("spike-\(run)", "steady-\(run)", "low-\(run)")
            var placed: [OrderFacts] = []
            func orders(_ product: String, _ count: Int, daysAgo: Double) -> [String] {
                (0..<count).map { i in
                    let at = Date().addingTimeInterval(-daysAgo * 86_400 - 60)
                    var o = IntakeAPITests.order("\(product)-\(Int(daysAgo))d-\(i)", buyer: "b-9")
                    o.placedAt = at
                    o.paidAt = at
                    o.lines[0].productId = product
                    placed.append(o)
                    return o.orderId
                }
            }
            let spikeOld = orders(spike, 60, daysAgo: 20), spikeNew = orders(spike, 25, daysAgo: 1)
            let steadyOld = orders(steady, 60, daysAgo: 20), steadyNew = orders(steady, 60, daysAgo: 1)
            let lowNew = orders(low, 3, daysAgo: 0)
            try TestStack.publish(try placed.map { o in
                let e = Envelope(type: Topology.Key.orderPlaced, correlationId: o.orderId,
                                 payload: OrderEvent(orderId: o.orderId, order: o))
                return (e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))
            }, routingKey: Topology.Key.orderPlaced)
            #expect(try TestStack.eventually(30) {
                try TestStack.database().query("SELECT count(*) AS n FROM intake.orders WHERE order_id LIKE $1",
                                               ["%\(run)%"])[0].int("n") == placed.count
            })
            func apply(_ orderIds: ArraySlice<String>) throws {
                for o in orderIds {
                    let r = try s.http("POST", "/v1/refunds", token: "buyer-token-b9-test-credential",
                                       body: s.json(IntakeAPITests.applyBody(o)), headers: ["Idempotency-Key": o])
                    #expect(r.status == 201, "\(o): \(r.status) \(r.json)")
                }
            }
            // Baselines of 5 %; then 12 of 25 recent orders of one product, 5 of 60 of another, 3 of 3 of a third.
            try apply(spikeOld.prefix(3))
            try apply(steadyOld.prefix(3))
            try apply(steadyNew.prefix(5))
            try apply(lowNew.prefix(3))
            try apply(spikeNew.prefix(12))

            // The rate sweep takes the applications in every RATE_SWEEP_SECONDS; wait for all 23 of them.
            var rows: [String: [String: Any]] = [:]
            #expect(try TestStack.eventually(30) {
                let report = try s.http("GET", "/v1/analytics/refund-rates?dimension=product", token: IntakeAPITests.r1)
                rows = Dictionary(uniqueKeysWithValues: (report.json["rates"] as? [[String: Any]] ?? []).compactMap { r in
                    (r["key"] as? String).map { ($0, r) }
                })
                let refunds = [spike, steady, low].map { (rows[$0]?["days30"] as? [String: Any])?["refunds"] as? Int ?? 0 }
                return report.status == 200 && refunds == [15, 8, 3]
            }, "\(rows)")
            let spikeRow = try #require(rows[spike], "\(rows.keys.sorted())")
            #expect(spikeRow["flag"] != nil, "\(spikeRow)")
            #expect((spikeRow["week"] as? [String: Any])?["rateBp"] as? Int == 12 * 10_000 / 25)
            #expect((spikeRow["days30"] as? [String: Any])?["orders"] as? Int == 85)
            #expect(rows[steady] != nil && rows[steady]?["flag"] == nil, "\(rows[steady] ?? [:])")
            #expect(rows[low] != nil && rows[low]?["flag"] == nil, "\(rows[low] ?? [:])")
            // Reviewers are told: one ticket naming the product.
            let tickets = try TestStack.database().query("""
                SELECT reason FROM intake.tickets WHERE reason LIKE $1 AND state = 'open'
                """, ["%product \(spike)%"])
            #expect(tickets.count == 1, "\(tickets.count) tickets")
            #expect(try tickets.first?.string("reason").contains("R-RATE-SPIKE") == true)
            #expect(try TestStack.database().query("SELECT 1 AS one FROM intake.tickets WHERE reason LIKE $1",
                                                   ["%\(steady)%"]).isEmpty)
            // The refunds were only applied for here (no auto-review runs): they wait in its queue, under b-9.
            // Buyers may not read it; a dimension that does not exist is a 400.
            #expect(try s.http("GET", "/v1/analytics/refund-rates", token: IntakeAPITests.b1).status == 403)
            #expect(try s.http("GET", "/v1/analytics/refund-rates?dimension=colour", token: IntakeAPITests.r1).status == 400)
            #expect(try s.http("GET", "/v1/analytics/refund-rates?dimension=reason", token: IntakeAPITests.r1).status == 200)
        }
    }
}
