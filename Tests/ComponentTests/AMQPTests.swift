import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("AMQP layer")
    struct AMQPTests {
        /// A fresh queue bound to `test.<name>`, the connection that declared it, and a publisher with confirms.
        static func queueWithPublisher(_ prefix: String) throws -> (String, AMQPConnection, AMQPConnection) {
            let q = TestStack.unique(prefix)
            let setup = try TestStack.connect()
            try TestStack.declare(setup, queue: q, bindings: ["test.\(q)"])
            let pub = try TestStack.connect()
            try pub.enableConfirms()
            return (q, setup, pub)
        }

        @Test("publish, confirm, consume, ack: the message arrives once with its properties")
        func roundTrip() throws {
            let (q, setup, pub) = try Self.queueWithPublisher("amqp_rt")
            let seq = try pub.publish(OutgoingMessage(
                exchange: Topology.eventsExchange, routingKey: "test.\(q)", messageId: "m-1", type: "test.ping",
                correlationId: "r-1", headers: ["x-schema-version": "1"], body: Array("{\"a\":1}".utf8)))
            #expect(try pub.waitForConfirms()[seq] == .confirmed)

            let consumer = try TestStack.connect()
            try consumer.consume(queue: q, prefetch: 10)
            let d = try #require(try consumer.nextDelivery(timeoutMillis: 5000))
            #expect(d.messageId == "m-1" && d.type == "test.ping" && d.correlationId == "r-1")
            #expect(d.headers["x-schema-version"] == "1")
            #expect(d.body == Array("{\"a\":1}".utf8))
            #expect(!d.redelivered)
            try consumer.ack(d)
            consumer.close()
            #expect(try TestStack.drain(q, quietMillis: 800).isEmpty, "an acked message must not come back")
            try setup.deleteQueue(q)
        }

        @Test("a new prefetch reaches the running consumer (a stage leaves its prefetch-1 recovery for its full window)")
        func prefetchChange() throws {
            let (q, setup, pub) = try Self.queueWithPublisher("amqp_prefetch")
            for n in 0..<20 {
                _ = try pub.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "test.\(q)",
                                                    messageId: "p-\(n)", type: "test.ping", body: Array("{}".utf8)))
            }
            _ = try pub.waitForConfirms()
            let consumer = try TestStack.connect()
            try consumer.consume(queue: q, prefetch: 1)
            let first = try #require(try consumer.nextDelivery(timeoutMillis: 5000))
            #expect(try consumer.nextDelivery(timeoutMillis: 300) == nil, "prefetch 1: nothing more before an ack")
            try consumer.setPrefetch(8)
            // Unacked, the first stays on the channel; the restarted consumer may now have 8 of its own in flight.
            var more: [Delivery] = []
            while let d = try consumer.nextDelivery(timeoutMillis: 500) { more.append(d) }
            #expect(more.count == 8, "the new prefetch did not reach the consumer: \(more.count) more deliveries")
            try consumer.ack(more.last ?? first, multiple: true)
            #expect(Set(([first] + more).map(\.messageId)).count == 9, "no delivery twice")
            consumer.close()
            #expect(try TestStack.drain(q, quietMillis: 800).count == 11, "the acked nine must not come back")
            try setup.deleteQueue(q)
        }

        @Test("confirms for a burst arrive (acks with multiple) and settle every publish")
        func burstConfirms() throws {
            let (q, setup, pub) = try Self.queueWithPublisher("amqp_burst")
            var seqs: [UInt64] = []
            for i in 0..<2_000 {
                seqs.append(try pub.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "test.\(q)",
                                                            messageId: "m-\(i)", type: "t", body: [UInt8(i % 256)])))
            }
            let outcomes = try pub.waitForConfirms(timeoutMillis: 30_000)
            #expect(outcomes.count == 2_000)
            #expect(seqs.allSatisfy { outcomes[$0] == .confirmed })
            #expect(try setup.purgeQueue(q) == 2_000)
            try setup.deleteQueue(q)
        }

        @Test("an unacked message is redelivered after its consumer's connection dies")
        func redeliveryAfterKill() throws {
            let q = TestStack.unique("amqp_kill")
            let setup = try TestStack.connect()
            try TestStack.declare(setup, queue: q, bindings: ["test.\(q)"])
            try TestStack.publish([("k-1", "t", [1, 2, 3])], routingKey: "test.\(q)")
            let doomed = try TestStack.connect()
            try doomed.consume(queue: q, prefetch: 1)
            let first = try #require(try doomed.nextDelivery(timeoutMillis: 5000))
            #expect(first.messageId == "k-1")
            doomed.abort()  // no ack, no goodbye: as if the process were killed
            let again = try TestStack.drain(q)
            #expect(again.count == 1)
            #expect(again.first?.messageId == "k-1")
            #expect(again.first?.redelivered == true)
            try setup.deleteQueue(q)
        }

        @Test("an unroutable mandatory publish is reported to the caller, not dropped")
        func unroutable() throws {
            let pub = try TestStack.connect()
            try pub.enableConfirms()
            try pub.declareExchange(Topology.eventsExchange, type: "topic")
            let routed = TestStack.unique("nobody")
            let seq = try pub.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: "\(routed).x",
                                                      messageId: "u-1", type: "t", body: [1]))
            let outcome = try #require(try pub.waitForConfirms()[seq])
            guard case .returned(let code, let text) = outcome else {
                Issue.record("expected a return, got \(outcome)")
                return
            }
            #expect(code == 312)
            #expect(text == "NO_ROUTE")
        }

        @Test("a publish to a missing exchange closes the channel and is reported as an error")
        func missingExchange() throws {
            let pub = try TestStack.connect()
            try pub.enableConfirms()
            _ = try pub.publish(OutgoingMessage(exchange: TestStack.unique("no_such_exchange"), routingKey: "x",
                                                messageId: "e-1", type: "t", body: [1]))
            #expect {
                try pub.waitForConfirms(timeoutMillis: 5000)
            } throws: { error in
                (error as? AMQPError)?.code == .channelClosed && (error as? AMQPError)?.replyCode == 404
            }
            #expect(!pub.isOpen)
        }

        @Test("a message rejected more often than the delivery limit lands in the dead-letter queue")
        func deliveryLimit() throws {
            let q = TestStack.unique("amqp_limit")
            let setup = try TestStack.connect()
            try TestStack.declare(setup, queue: q, bindings: ["test.\(q)"], deliveryLimit: 2)
            try setup.purgeQueue(Topology.deadLetterQueue(of: q))
            try TestStack.publish([("p-1", "t", Array("poison".utf8))], routingKey: "test.\(q)")
            let c = try TestStack.connect()
            try c.consume(queue: q, prefetch: 1)
            var deliveries = 0
            while let d = try c.nextDelivery(timeoutMillis: 2000) {
                deliveries += 1
                try c.reject(d, requeue: true)
                #expect(deliveries < 10, "delivery limit not enforced")
                if deliveries >= 10 { break }
            }
            #expect(deliveries == 3, "limit 2: delivered once plus two redeliveries")
            let dead = try TestStack.drain(Topology.deadLetterQueue(of: q))
            #expect(dead.count == 1)
            #expect(dead.first?.messageId == "p-1")
            #expect(dead.first?.body == Array("poison".utf8))
            try setup.deleteQueue(q)
            try setup.deleteQueue(Topology.deadLetterQueue(of: q))
        }

        @Test("URLs: user, password, port and percent-encoded vhost; nonsense refused")
        func urls() throws {
            let u = try AMQPURL(parsing: "amqp://svc:p%40ss@127.0.0.1:5692/refunds")
            #expect(u.user == "svc" && u.password == "p@ss" && u.port == 5692 && u.vhost == "refunds")
            #expect(try AMQPURL(parsing: "amqp://a:b@h").vhost == "/")
            #expect(try AMQPURL(parsing: "amqp://a:b@h/%2f").vhost == "/")
            #expect(!u.description.contains("p@ss"))
            for bad in ["nonsense", "http://a:b@h/", "amqp://h/", "amqp://a:b@h:99999/", "amqp://a@h/",
                        "amqp://a:b@h1,/v", "amqp://a:b@h1:5672,h2:x/v"] {
                #expect(throws: AMQPError.self) { try AMQPURL(parsing: bad) }
            }
            // A cluster: every node, in order; the default port for those without one.
            let c = try AMQPURL(parsing: "amqp://a:b@n1:5672,n2,n3:5673/v")
            #expect(c.endpoints == [.init(host: "n1", port: 5672), .init(host: "n2", port: 5672),
                                    .init(host: "n3", port: 5673)])
            #expect(c.description == "amqp://n1:5672,n2:5672,n3:5673/v as a")
        }

        @Test("a cluster URL whose first node is down connects to the next")
        func nextNode() throws {
            let url = try AMQPURL(parsing: try TestStack.setting("INTAKE_AMQP_URL"))
            var cluster = url
            cluster.endpoints = [.init(host: "127.0.0.1", port: TestStack.freePort()), url.endpoints[0]]
            // Whatever node a connection starts with, the dead one is skipped.
            for _ in 0..<3 {
                let c = try AMQPConnection(url: cluster)
                #expect(c.endpoint == url.endpoints[0])
                c.close()
            }
        }
    }
}
