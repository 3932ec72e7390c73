import Foundation
import RefundModel
import Testing

@Suite("Who may publish what (the producers table)")
struct ProducersTests {
    @Test("each message has its producers; anyone else is refused as forged", arguments: [
        ("order.placed", "marketplace", true), ("order.placed", "intake", false), ("order.paid", "payout", false),
        ("buyer.profile", "marketplace", true), ("buyer.profile", "notification", false),
        ("refund.applied", "intake", true), ("refund.applied", "marketplace", false),
        ("refund.approved", "auto-review", true), ("refund.approved", "intake", false),
        ("refund.verified", "supplier-verification", true), ("refund.verified", "notification", false),
        ("refund.verified", "supplier.sup-1", false), ("refund.fallback-chosen", "intake", true),
        ("refund.fallback-chosen", "payout", false), ("supplier.reply", "supplier.sup-1", true),
        ("supplier.reply", "supplier-verification", false), ("supplier.reply", "supplier.", false),
        ("supplier.sup-1.request", "supplier-verification", true), ("supplier.sup-1.request", "supplier.sup-1", false),
        ("refund.status.credited", "payout", true), ("refund.status.credited", "supplier-verification", false),
        ("refund.status.processing", "supplier-verification", true), ("refund.status.approved", "auto-review", true),
        ("refund.status.approved", "payout", false), ("notification.in-app", "notification", true),
        ("notification.in-app", "intake", false), ("refund.status.no-such-step", "payout", false),
        ("something.else", "refunds-admin", false),
    ])
    func refusal(key: String, user: String, allowed: Bool) {
        let why = Producers.refusal(routingKey: key, validatedUser: user)
        #expect((why == nil) == allowed, "\(key) by \(user): \(why ?? "accepted")")
        if let why { #expect(why.hasPrefix("forged:")) }
    }

    @Test("a message without a validated publisher is refused")
    func noUser() {
        #expect(Producers.refusal(routingKey: "order.placed", validatedUser: nil) != nil)
        #expect(Producers.refusal(routingKey: "order.placed", validatedUser: "") != nil)
    }

    @Test("every key a service consumes has a producer, and every step has one")
    func everyBindingHasAProducer() {
        for s in ServiceName.allCases {
            for b in Topology.queue(for: s).bindings {
                let sample = b.replacingOccurrences(of: "*", with: b.hasPrefix("order") ? "paid" : "credited")
                #expect(Producers.allowed(routingKey: sample) != nil, "\(s.rawValue) binds \(b) with no producer")
            }
        }
        for step in RefundState.allCases { #expect(!step.producers.isEmpty) }
    }

    @Test("no supplier id can name a service's AMQP user")
    func supplierNamespace() {
        for s in ServiceName.allCases {
            #expect(!s.amqpUser.contains("."))
            #expect(SupplierProtocol.supplier(fromUser: s.amqpUser) == nil)
        }
        #expect(SupplierProtocol.amqpUser(supplier: "verification") != ServiceName.supplierVerification.amqpUser)
        #expect(SupplierProtocol.supplier(fromUser: SupplierProtocol.amqpUser(supplier: "verification")) == "verification")
    }

    /// The provisioning scripts read the broker's topic permissions from this file; it must say what the table says.
    @Test("Tools/provisioning/topic-permissions.tsv is the producers table")
    func provisioningFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let expected = "# user\twrite pattern on refund.events (generated from Producers.table; see ProducersTests)\n"
            + Producers.topicPermissions().map { "\($0.user)\t\($0.write)\n" }.joined()
        let file = root.appendingPathComponent("Tools/provisioning/topic-permissions.tsv")
        let actual = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if actual != expected, ProcessInfo.processInfo.environment["REGENERATE"] == "1" {
            try expected.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(actual == expected, "regenerate with: REGENERATE=1 swift test --filter ProducersTests\n\(expected)")
    }
}
