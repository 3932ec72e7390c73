import AMQP
import Foundation
import Postgres
import RefundModel
import Testing

extension Component {
    /// `/metrics` on the health port, through the real runtime (the stage-probe executable).
    @Suite("Metrics")
    struct MetricsTests {
        @Test("/metrics parses as Prometheus text, counts handled and dead-lettered messages, and shows an outbox held back by a stopped broker growing older")
        func runtimeMetrics() throws {
            let queue = TestStack.unique("probe")
            let port = TestStack.freePort()
            let probe = try ProbeProcess(queue: queue, schema: queue,
                                         env: ["HEALTH_PORT": String(port), "METRICS_SAMPLE_SECONDS": "0.5"])
            try probe.waitUntilConsuming()
            let c = try TestStack.connect()
            try TestStack.declare(c, queue: queue + "_out", bindings: [probe.outKey])
            c.close()
            let poison = Envelope(type: "probe.poison", payload: ["key": "p"])
            try TestStack.publish(try ProbeProcess.increments((0..<5).map { "m\($0)" })
                + [(poison.id.description, poison.type, [UInt8](try MessageCoding.encoder().encode(poison)))],
                routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects().count) == 5 })
            let labels = ["queue": queue, "type": "probe.increment"]
            // The poison may come in a later window than the increments: wait for both to be counted.
            #expect(TestStack.eventually(10) {
                guard let page = PrometheusText.scrape(port: port) else { return false }
                return page.value("refunds_messages_total", labels.merging(["outcome": "handled"]) { $1 }) == 5
                    && page.value("refunds_dead_letters_total", ["queue": queue]) == 1
            })
            let page = try #require(PrometheusText.scrape(port: port))
            #expect(page.malformed.isEmpty, "malformed lines: \(page.malformed.prefix(5))")
            #expect(page.value("refunds_dead_letters_total", ["queue": queue, "reason": "handler"]) == 1)
            #expect(page.value("refunds_messages_total", ["queue": queue, "outcome": "dead_lettered"]) == 1)
            #expect(page.value("refunds_window_seconds_count", ["queue": queue]) >= 1)
            #expect(page.value("refunds_handler_seconds_count", ["type": "probe.increment"]) == 5)
            #expect(TestStack.eventually(10) {
                PrometheusText.scrape(port: port)?.value("refunds_dead_letters_held", ["schema": queue]) == 1
            })

            // Everything handled so far has left the outbox; then the broker goes away, a row committed meanwhile
            // waits in the outbox, and the gauges show it ageing.
            #expect(TestStack.eventually(20) {
                PrometheusText.scrape(port: port)?.value("refunds_outbox_depth", ["schema": queue]) == 0
            })
            try TestStack.rabbitmqctl("stop_app")
            defer { try? TestStack.rabbitmqctl("start_app") }
            let db = try TestStack.database()
            defer { db.close() }
            let e = Envelope(type: "probe.done", correlationId: "held", payload: ["key": "held"])
            try db.execute("""
                INSERT INTO \(queue).outbox (exchange, routing_key, message_id, type, body)
                VALUES ($1, $2, $3, $4, $5::bytea)
                """, [Topology.eventsExchange, probe.outKey, e.id.description, e.type,
                      PostgresBytes(try MessageCoding.encoder().encode(e))])
            #expect(TestStack.eventually(10) {
                (PrometheusText.scrape(port: port)?.value("refunds_outbox_oldest_age_seconds", ["schema": queue]) ?? 0) >= 1
            })
            let first = try #require(PrometheusText.scrape(port: port))
            usleep(2_000_000)
            let later = try #require(PrometheusText.scrape(port: port))
            #expect(first.value("refunds_outbox_depth", ["schema": queue]) == 1)
            #expect(later.value("refunds_outbox_oldest_age_seconds", ["schema": queue])
                    > first.value("refunds_outbox_oldest_age_seconds", ["schema": queue]))

            try TestStack.rabbitmqctl("start_app")
            #expect(TestStack.eventually(60) {
                PrometheusText.scrape(port: port)?.value("refunds_outbox_depth", ["schema": queue]) == 0
            }, "the outbox drains once the broker is back")
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }
    }
}
