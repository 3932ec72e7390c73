import AMQP
import Foundation
import Postgres
import RefundModel
import Testing

extension Component {
    /// `refundctl dlq`, the real executable, on dead letters of the real runtime (the stage-probe executable).
    @Suite("Dead letters: refundctl dlq")
    struct DeadLetterToolTests {
        func refundctl(_ args: [String]) throws -> (status: Int32, output: String) {
            try TestStack.run(TestStack.binPath + "/refundctl", args,
                              env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL(), "USER": "test-operator"])
        }

        struct Listed: Decodable {
            struct Letter: Decodable {
                var id: Int64
                var type: String
                var state: String
                var reason: String
                var routingKey: String
                var publisher: String
            }
            var schema: String
            var letter: Letter
        }

        func list(_ schema: String, state: String = "held") throws -> [Listed.Letter] {
            let r = try refundctl(["dlq", "list", "--schema", schema, "--state", state, "--json"])
            try #require(r.status == 0, "\(r.output)")
            return try r.output.split(separator: "\n").map {
                try JSONDecoder().decode(Listed.self, from: Data($0.utf8)).letter
            }
        }

        @Test("a dead letter mended and replayed is handled once; a second replay, a discard after it and a forged replay are refused")
        func replayOnce() throws {
            let queue = TestStack.unique("probe")
            let probe = try ProbeProcess(queue: queue, schema: queue)
            try probe.waitUntilConsuming()
            let out = queue + "_out"
            let c = try TestStack.connect()
            try TestStack.declare(c, queue: out, bindings: [probe.outKey])
            c.close()
            let db = try TestStack.database()
            defer { db.close() }
            try db.execute("INSERT INTO \(queue).blocked (key) VALUES ('mend-me')")

            try TestStack.publish(try ProbeProcess.increments(["mend-me", "fine"]), routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects()["fine"]) == 1 })
            #expect(TestStack.eventually(10) { (try? list(queue).count) == 1 })
            let letter = try #require(try list(queue).first)
            #expect(letter.type == "probe.increment" && letter.reason.contains("key mend-me is blocked"))
            #expect(letter.routingKey == probe.inKey)
            #expect(try probe.effects()["mend-me"] == nil)

            let shown = try refundctl(["dlq", "show", String(letter.id), "--schema", queue])
            #expect(shown.status == 0 && shown.output.contains("mend-me") && shown.output.contains("body (masked)"),
                    "\(shown.output)")
            let human = try refundctl(["dlq", "list", "--schema", queue])
            #expect(human.status == 0 && human.output.contains("REASON") && human.output.contains("probe.increment"))

            // The operator mends the cause, then replays: handled once, one outgoing event.
            try db.execute("DELETE FROM \(queue).blocked")
            let replayed = try refundctl(["dlq", "replay", String(letter.id), "--schema", queue, "--note", "unblocked"])
            #expect(replayed.status == 0, "\(replayed.output)")
            #expect(TestStack.eventually(20) { (try? probe.effects()["mend-me"]) == 1 })

            let again = try refundctl(["dlq", "replay", String(letter.id), "--schema", queue])
            #expect(again.status == 4 && again.output.contains("already replayed"), "\(again.output)")
            let discard = try refundctl(["dlq", "discard", String(letter.id), "--schema", queue, "--reason", "late"])
            #expect(discard.status == 4, "\(discard.output)")
            #expect(try refundctl(["dlq", "replay", "999999", "--schema", queue]).status == 3)
            #expect(try refundctl(["dlq", "discard", "1", "--schema", queue, "--reason", " "]).status == 64)

            // Someone else who may write to the dead-letter exchange (intake's login) forges a replay: refused,
            // recorded as a dead letter of its own, never handled.
            let forgedKey = "forged-replay"
            let forger = try AMQPURL(parsing: try TestStack.setting("INTAKE_AMQP_URL"))
            let fc = try AMQPConnection(url: forger)
            try fc.enableConfirms()
            let body = try ProbeProcess.increments([forgedKey])[0]
            let seq = try fc.publish(OutgoingMessage(
                exchange: Topology.deadLetterExchange, routingKey: Topology.replayRoutingKey(of: queue),
                messageId: body.id, type: body.type, userId: forger.user,
                headers: [Topology.DeadLetterHeader.originalRoutingKey: probe.inKey,
                          Topology.DeadLetterHeader.originalUserId: try TestStack.amqpURL().user],
                body: body.body))
            #expect(try fc.waitForConfirms(timeoutMillis: 10_000)[seq] == .confirmed)
            fc.close()
            #expect(TestStack.eventually(20) {
                (try? list(queue).contains { $0.reason.contains("a replay not published by this stage") }) == true
            })
            #expect(try probe.effects()[forgedKey] == nil)

            let done = try TestStack.drain(out)
            #expect(done.filter { $0.correlationId == "mend-me" }.count == 1)
            let decided = try #require(try list(queue, state: "replayed").first)
            #expect(decided.id == letter.id)
            let by = try db.query("SELECT decided_by, decision_note FROM \(queue).dead_letters WHERE id = $1::bigint",
                                  [letter.id])
            #expect(try by.first?.string("decided_by") == "test-operator")
            #expect(try by.first?.string("decision_note") == "unblocked")

            // A discard closes a held record for good.
            let forged = try #require(try list(queue).first)
            #expect(try refundctl(["dlq", "discard", String(forged.id), "--schema", queue, "--reason", "forgery"])
                .status == 0)
            #expect(try list(queue).isEmpty)
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }
    }
}
