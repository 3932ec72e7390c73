import Foundation
import RefundModel
@testable import StageRuntime
import Testing

@Suite("The message catalogue: bindings, producers and handlers from one list")
struct MessageCatalogueTests {
    /// Written out by hand: what each service's queue binds. A message added to the catalogue shows up here.
    @Test("each service's queue binds exactly what it consumes", arguments: [
        (ServiceName.intake, ["order.placed", "order.paid", "order.delivered", "order.consumed", "notification.in-app",
                              "refund.incident", "refund.supplier-record", "refund.status.*"]),
        (.autoReview, ["refund.applied", "refund.evidence-added", "refund.appealed", "refund.withdrawn",
                       "refund.reviewer-decided"]),
        (.supplierVerification, ["refund.arbitration-decided", "refund.approved", "supplier.reply"]),
        (.payout, ["order.placed", "refund.fallback-chosen", "refund.verified"]),
        (.notification, ["buyer.profile", "refund.status.*"]),
    ])
    func bindings(service: ServiceName, expected: [String]) {
        let queue = Topology.queue(for: service)
        #expect(queue.name == service.rawValue)
        #expect(Set(queue.bindings) == Set(expected))
        #expect(queue.bindings.count == expected.count, "no binding twice")
    }

    @Test("the types a service must handle", arguments: [
        (ServiceName.intake, ["order.placed", "order.paid", "order.delivered", "order.consumed", "notification.in-app",
                              "refund.incident", "refund.supplier-record", "refund.status"]),
        (.supplierVerification, ["refund.arbitration-decided", "refund.approved", "supplier.verification-reply"]),
    ])
    func types(service: ServiceName, expected: [String]) {
        #expect(MessageCatalogue.types(consumedBy: service) == Set(expected))
    }

    @Test("every message has a producer; every routing key is listed once")
    func producers() {
        for kind in MessageCatalogue.kinds { #expect(!kind.producers.isEmpty, "\(kind.routingKey)") }
        let keys = MessageCatalogue.kinds.map(\.routingKey)
        #expect(Set(keys).count == keys.count)
        // The producers table is the catalogue's: a step only from the stages that reach it.
        #expect(Producers.allowed(routingKey: "refund.status.credited") == [.service(.payout)])
        #expect(Producers.allowed(routingKey: "order.refunded") == nil, "not in the catalogue: nobody may send it")
    }

    struct Nothing: Codable, Sendable {}

    @Test("a stage's handlers must cover exactly what it consumes: missing, extra and twice are named")
    func routesChecked() {
        let noop: @Sendable (Nothing, IncomingMessage, StageTransaction) throws -> Void = { _, _, _ in }
        var routes = MessageRoutes()
        for type in MessageCatalogue.types(consumedBy: .payout) { routes = routes.on(type, Nothing.self, noop) }
        #expect(routes.mismatch(expected: MessageCatalogue.types(consumedBy: .payout)) == nil)

        let missing = MessageRoutes().on("refund.verified", Nothing.self, noop)
        let why = missing.mismatch(expected: MessageCatalogue.types(consumedBy: .payout)) ?? ""
        #expect(why.contains("consumed without a handler") && why.contains("refund.fallback-chosen"), "\(why)")

        let extra = routes.on("refund.applied", Nothing.self, noop)
        #expect(extra.mismatch(expected: MessageCatalogue.types(consumedBy: .payout))?
            .contains("handled but not consumed (MessageCatalogue): [\"refund.applied\"]") == true)

        let twice = routes.on("refund.verified", Nothing.self, noop)
        #expect(twice.mismatch(expected: MessageCatalogue.types(consumedBy: .payout))?
            .contains("registered twice: [\"refund.verified\"]") == true)
    }
}
