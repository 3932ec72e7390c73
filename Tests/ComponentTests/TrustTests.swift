import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    /// ARCHITECTURE.md, "What a stage may accept from the bus: who sent it". Every message type has its producers
    /// (`Producers.table`); the broker lets each user publish only its own routing keys, the relays stamp `user_id`,
    /// and every consumer dead-letters as forged what the broker let through from anyone else.
    @Suite("Who may publish what: broker and consumers check the producer")
    struct TrustTests {
        /// A concrete routing key for a row of the producers table.
        static func sample(_ pattern: String) -> String {
            pattern.replacingOccurrences(of: "*", with: "sup-confirm")
        }

        static func serviceURL(_ s: ServiceName) throws -> AMQPURL {
            try AMQPURL(parsing: try TestStack.setting(s.rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
                + "_AMQP_URL"))
        }

        /// Publishes one message as `url`'s user; returns whether the broker confirmed it (false: it closed the
        /// channel, refusing the publish).
        static func tryPublish(_ url: AMQPURL, key: String, userId: String?, body: [UInt8] = [1]) throws -> Bool {
            let c = try AMQPConnection(url: url)
            defer { c.close() }
            try c.enableConfirms()
            let seq = try c.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key,
                                                    messageId: UUID().uuidString, type: key, userId: userId,
                                                    body: body))
            do { return try c.waitForConfirms()[seq] == .confirmed } catch { return false }
        }

        /// Runs `publish`, then returns the explanation of the `refund.status.rejected_final` payout published for
        /// `refund` (nil if none came within 15 s).
        static func refusal(of refund: RefundID, _ publish: () throws -> Void) throws -> String? {
            let c = try TestStack.connect()
            let q = TestStack.unique("rejected")
            try TestStack.declare(c, queue: q, bindings: [Topology.Key.status(RefundState.rejectedFinal.rawValue)])
            c.close()
            try publish()
            var found: String?
            _ = try TestStack.eventually(15) {
                for d in try TestStack.drain(q, quietMillis: 200) {
                    let e = try MessageCoding.decoder().decode(Envelope<RefundStatusEvent>.self, from: Data(d.body))
                    if e.payload.refundId == refund, e.payload.rule == .payoutCap, d.userId == ServiceName.payout.amqpUser {
                        found = e.payload.explanation
                    }
                }
                return found != nil
            }
            return found
        }

        @Test("for every message type, another service's credentials are refused by the broker")
        func brokerRefusesOtherPublishers() throws {
            for row in Producers.table {
                let key = Self.sample(row.key)
                let wrong = try #require(ServiceName.allCases.first { !row.producers.contains(.service($0)) })
                let url = try Self.serviceURL(wrong)
                #expect(try !Self.tryPublish(url, key: key, userId: url.user), "\(wrong.rawValue) published \(key)")
            }
            // The marketplace publishes order facts only; a service cannot claim another's user_id. (Intake's queue is
            // declared so the legitimate publish is routed even when this test runs first on a fresh broker.)
            let setup = try TestStack.connect()
            let intakeQueue = Topology.queue(for: .intake)
            try TestStack.declare(setup, queue: intakeQueue.name, bindings: intakeQueue.bindings)
            setup.close()
            let market = try AMQPURL(parsing: try TestStack.setting("MARKETPLACE_AMQP_URL"))
            #expect(try Self.tryPublish(market, key: Topology.Key.orderPaid, userId: market.user))
            #expect(try !Self.tryPublish(market, key: Topology.Key.refundVerified, userId: market.user))
            let notification = try Self.serviceURL(.notification)
            #expect(try !Self.tryPublish(notification, key: Topology.Key.inAppMessage,
                                         userId: ServiceName.supplierVerification.amqpUser))
        }

        @Test("what the broker lets through from anyone else is dead-lettered as forged, counted, never acted on")
        func consumersRefuseForgeries() throws {
            let s = try ServiceProcesses(ServiceName.allCases.map(\.rawValue))
            defer { s.stop() }
            let db = try TestStack.database()
            defer { db.close() }
            func refusedCount() throws -> Int64 {
                try ServiceName.allCases.reduce(0) { sum, svc in
                    sum + (try db.query("SELECT coalesce(sum(count), 0)::bigint AS n FROM \(svc.schema).refused_messages")[0]
                        .int64("n"))
                }
            }
            let before = try refusedCount()

            // An order payout knows: 5,000 fen paid, undelivered (its refunds may go to the balance, no channel).
            let order = TestStack.unique("trust")
            var facts = IntakeAPITests.order(order, paid: 5_000, delivered: false)
            facts.paymentChannel = .alipay
            try Marketplace.place(facts)
            #expect(try TestStack.eventually(15) {
                !(try db.query("SELECT 1 AS one FROM payout.orders WHERE order_id = $1", [order])).isEmpty
            }, "payout records what the order paid from the marketplace's own order.placed")

            // The attack of the issue: refund.verified for 1,000,000 fen claiming linePaid = 1,000,000, from a user
            // the broker admits (the admin: as if topic permissions were loosened), with and without a user_id.
            func verified(_ fen: Int64, claimedPaid: Int64, refund: RefundID = RefundID()) throws -> [UInt8] {
                let v = RefundVerified(
                    approved: RefundApproved(refundId: refund, orderId: order, lineId: "L1", buyerId: "b-1",
                                             supplierId: "sup-1", productKind: .cardCode, reason: .notDelivered,
                                             amount: try Money(minorUnits: fen),
                                             linePaid: try Money(minorUnits: claimedPaid), paymentChannel: .balance,
                                             preferredRoute: .balance, fastRefund: true, advanceCompensation: false,
                                             rule: .fastRefund, evidence: [], approvedAt: Date(),
                                             orderPaid: try Money(minorUnits: claimedPaid)),
                    amount: try Money(minorUnits: fen), outcome: .notRequired, verifiedAt: Date())
                return [UInt8](try MessageCoding.encoder().encode(
                    Envelope(type: MessageType.refundVerified, correlationId: refund.description, payload: v)))
            }
            let admin = try TestStack.amqpURL()
            var forgedIds: [String: String] = [:]  // message id -> queue it must be dead-lettered from
            for (userId, refund) in [(admin.user as String?, RefundID()), (nil, RefundID())] {
                let body = try verified(1_000_000, claimedPaid: 1_000_000, refund: refund)
                let id = try MessageCoding.decoder().decode(EnvelopeHeader.self, from: Data(body)).id.description
                let c = try AMQPConnection(url: admin)
                try c.enableConfirms()
                let seq = try c.publish(OutgoingMessage(exchange: Topology.eventsExchange,
                                                        routingKey: Topology.Key.refundVerified, messageId: id,
                                                        type: MessageType.refundVerified, userId: userId, body: body))
                #expect(try c.waitForConfirms()[seq] == .confirmed)
                c.close()
                forgedIds[id] = ServiceName.payout.rawValue
            }
            // Every other message type a service consumes, forged the same way (a valid envelope, admin's user_id).
            for row in Producers.table {
                let key = Self.sample(row.key)
                let queues = ServiceName.allCases.filter { svc in
                    Topology.queue(for: svc).bindings.contains { Producers.matches(pattern: $0, key) }
                }
                guard !queues.isEmpty, key != Topology.Key.refundVerified else { continue }
                let type = key.hasPrefix(Topology.Key.statusPrefix) ? MessageType.refundStatus : key
                let e = Envelope(type: type, correlationId: order, payload: ["orderId": order])
                try TestStack.publish([(e.id.description, type, [UInt8](try MessageCoding.encoder().encode(e)))],
                                      routingKey: key, as: admin)
                for q in queues { forgedIds[e.id.description + "@" + q.rawValue] = q.rawValue }
            }

            // Each is dead-lettered from each queue it reached, with the reason "forged", and counted.
            var dead: [String: [Delivery]] = [:]
            let queues = Set(forgedIds.values)
            let expectedCount = Int64(forgedIds.count)
            #expect(try TestStack.eventually(30) {
                for q in queues { dead[q, default: []] += try TestStack.drain(Topology.deadLetterQueue(of: q), quietMillis: 200) }
                return try refusedCount() - before >= expectedCount
            }, "refused fewer than the \(expectedCount) forgeries")
            for (key, queue) in forgedIds {
                let id = String(key.split(separator: "@").first!)
                let letter = dead[queue]?.first { $0.messageId == id }
                #expect(letter?.headers[Topology.deadLetterReasonHeader]?.hasPrefix("forged:") == true,
                        "\(key) not dead-lettered as forged from \(queue)")
            }
            #expect(try refusedCount() - before == expectedCount)
            // Nothing was paid for the forgeries.
            #expect(try db.query("SELECT count(*) AS n FROM payout.payouts WHERE order_id = $1", [order])[0].int("n") == 0)

            // The rightful producer, lying about the cap: payout's own record (5,000 paid) refuses it, and says so.
            let lie = RefundID()
            let refusal = try Self.refusal(of: lie) {
                try TestStack.publish([(UUID().uuidString.lowercased(), MessageType.refundVerified,
                                        try verified(1_000_000, claimedPaid: 1_000_000, refund: lie))],
                                      routingKey: Topology.Key.refundVerified)
            }
            #expect(refusal?.contains("over-refund") == true, "\(refusal ?? "no rejected_final")")
            #expect(try db.query("SELECT count(*) AS n FROM payout.balance_ledger WHERE refund_id = $1::uuid",
                                 [lie.rawValue])[0].int("n") == 0)

            // And the rightful producer with a true amount is paid, even when it arrives before payout knows the
            // order: it waits for order.placed instead of failing.
            let early = TestStack.unique("trust-early")
            var earlyFacts = IntakeAPITests.order(early, paid: 4_000, delivered: false)
            earlyFacts.paymentChannel = .alipay
            let ok = RefundID()
            var v = try MessageCoding.decoder().decode(Envelope<RefundVerified>.self,
                                                       from: Data(try verified(4_000, claimedPaid: 4_000, refund: ok)))
            v.payload.approved.orderId = early
            try TestStack.publish([(v.id.description, v.type, [UInt8](try MessageCoding.encoder().encode(v)))],
                                  routingKey: Topology.Key.refundVerified)
            #expect(try TestStack.eventually(15) {
                !(try db.query("SELECT 1 AS one FROM payout.waiting_for_order WHERE refund_id = $1::uuid",
                               [ok.rawValue])).isEmpty
            }, "a verified refund for an order payout has not seen waits")
            try Marketplace.place(earlyFacts)
            #expect(try TestStack.eventually(15) {
                try db.query("SELECT coalesce(sum(amount_fen), 0)::bigint AS n FROM payout.balance_ledger WHERE refund_id = $1::uuid",
                             [ok.rawValue])[0].int64("n") == 4_000
            }, "paid once its order arrived")
        }
    }
}
