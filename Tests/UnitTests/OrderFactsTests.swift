import Foundation
import RefundModel
import Testing

@Suite("Order facts only grow")
struct OrderFactsTests {
    static func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    static func order(consumed: Date? = nil, used: Int64? = nil, completion: Int64? = nil) -> OrderFacts {
        OrderFacts(orderId: "o-1", buyerId: "b-1", paymentChannel: .alipay, placedAt: t0, paidAt: t0,
                   promisedDeliveryAt: t0, lines: [
                       OrderLineFacts(lineId: "L1", productKind: .topUp, supplierId: "s", listPrice: fen(10_000),
                                      paid: fen(9_500), consumedAt: consumed, usedValue: used.map(fen),
                                      completionBp: completion),
                   ])
    }

    @Test("a repeated order.placed keeps what was learned since, and the first placement's amounts")
    func placedAgain() {
        let known = Self.order(consumed: Self.t0.addingTimeInterval(60), used: 2_000, completion: 5_000)
        var again = Self.order()
        again.lines[0].paid = Self.fen(1)
        let merged = known.merging(placedAgain: again)
        #expect(merged.lines[0].consumedAt == Self.t0.addingTimeInterval(60))
        #expect(merged.lines[0].usedValue == Self.fen(2_000))
        #expect(merged.lines[0].completionBp == 5_000)
        #expect(merged.lines[0].paid == Self.fen(9_500))
        // A repeat that knows more adds it.
        let fresh = Self.order().merging(placedAgain: Self.order(consumed: Self.t0))
        #expect(fresh.lines[0].consumedAt == Self.t0)
    }

    @Test("older events never roll a fact back: usage and completion only grow, first times stand")
    func eventsOnlyAdd() {
        var facts = Self.order()
        OrderEvent(orderId: "o-1", lineId: "L1", consumedAt: Self.t0, usedValue: Self.fen(3_000), completionBp: 6_000,
                   opened: true).apply(to: &facts)
        OrderEvent(orderId: "o-1", lineId: "L1", consumedAt: Self.t0.addingTimeInterval(99), usedValue: Self.fen(1_000),
                   completionBp: 2_000, opened: false).apply(to: &facts)
        OrderEvent(orderId: "o-1", paidAt: Self.t0.addingTimeInterval(5)).apply(to: &facts)
        #expect(facts.lines[0].consumedAt == Self.t0)
        #expect(facts.lines[0].usedValue == Self.fen(3_000))
        #expect(facts.lines[0].completionBp == 6_000)
        #expect(facts.lines[0].opened == true)
        #expect(facts.paidAt == Self.t0)
    }
}

@Suite("Orders are checked where they enter")
struct OrderValidationTests {
    @Test("one currency per order and a name per line; comparing currencies never crashes")
    func currencies() throws {
        var facts = OrderFactsTests.order()
        #expect(facts.problem() == nil)
        facts.lines[0].listPrice = try Money(minorUnits: 10_000, currency: Currency("USD")!)
        #expect(facts.problem()?.contains("mixes CNY with USD") == true)
        var twice = OrderFactsTests.order()
        twice.lines.append(twice.lines[0])
        #expect(twice.problem() != nil)
        // The pre-check's "paid below list price" comparison, on facts that slipped through, is defined, not a trap.
        #expect(facts.lines[0].paid < facts.lines[0].listPrice || facts.lines[0].listPrice < facts.lines[0].paid)
    }
}
