import AMQP
import Foundation
import Postgres
import RefundModel
import Testing

extension Component {
    /// The stage runtime, through the real stage-probe executable: inbox, outbox, relay, dead letters, shutdown.
    @Suite("Stage runtime")
    struct RuntimeTests {
        /// Starts a probe on a fresh queue and schema, with a queue of our own bound to what it publishes.
        func startProbe(env: [String: String] = [:]) throws -> (ProbeProcess, String) {
            let queue = TestStack.unique("probe")
            let probe = try ProbeProcess(queue: queue, schema: queue, env: env)
            try probe.waitUntilConsuming()
            let out = queue + "_out"
            let c = try TestStack.connect()
            try TestStack.declare(c, queue: out, bindings: [probe.outKey])
            c.close()
            return (probe, out)
        }

        @Test("the same message delivered twice has one effect and one outgoing event")
        func duplicate() throws {
            let (probe, out) = try startProbe()
            let msg = try ProbeProcess.increments(["once"])[0]
            try TestStack.publish([msg, msg], routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects()["once"]) != nil })
            let done = try TestStack.drain(out)
            #expect(try probe.effects()["once"] == 1)
            #expect(done.count == 1)
            #expect(probe.log.contains("\"window.duplicates\":\"1\""))
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("a consumer killed between commit and ack: redelivered, no second effect")
        func crashBetweenCommitAndAck() throws {
            let (crashing, out) = try startProbe(env: ["PROBE_EXIT_AFTER_COMMIT": "1"])
            try TestStack.publish(try ProbeProcess.increments(["k1", "k2", "k3"]), routingKey: crashing.inKey)
            #expect(crashing.waitForExit() == 9, "the probe should die right after its first commit")
            let committed = try crashing.effects()
            #expect(!committed.isEmpty && committed.values.allSatisfy { $0 == 1 })

            let restarted = try ProbeProcess(queue: crashing.queue, schema: crashing.schema)
            try restarted.waitUntilConsuming()
            #expect(TestStack.eventually(20) { (try? restarted.effects().count) == 3 })
            #expect(try restarted.effects() == ["k1": 1, "k2": 1, "k3": 1])
            // The committed part came back as redeliveries and was recognised as such by the inbox.
            #expect(restarted.log.contains("window.duplicates"))
            let done = try TestStack.drain(out)
            #expect(Set(done.compactMap(\.correlationId)) == ["k1", "k2", "k3"])
            restarted.terminate()
            #expect(restarted.waitForExit() == 0)
        }

        @Test("outbox rows committed while the broker is down are published once it is back")
        func outboxSurvivesBrokerOutage() throws {
            let (probe, out) = try startProbe()
            try TestStack.rabbitmqctl("stop_app")
            let db = try TestStack.database()
            let ids = (0..<5).map { _ in UUID().uuidString.lowercased() }
            try db.transaction { tx in
                for id in ids {
                    let body = try MessageCoding.encoder().encode(
                        Envelope(id: MessageID(id)!, type: "probe.done", payload: ["key": id]))
                    try tx.query("""
                        INSERT INTO \(probe.schema).outbox (exchange, routing_key, message_id, type, body)
                        VALUES ($1, $2, $3, $4, $5::bytea)
                        """, [Topology.eventsExchange, probe.outKey, id, "probe.done", PostgresBytes(body)])
                }
                try tx.notify("outbox_\(probe.schema)")
            }
            usleep(1_500_000)
            try TestStack.rabbitmqctl("start_app")
            #expect(TestStack.eventually(60) {
                (try? db.query("SELECT count(*) AS n FROM \(probe.schema).outbox")[0].int("n")) == 0
            })
            let got = try TestStack.drain(out)
            #expect(Set(got.compactMap(\.messageId)) == Set(ids))
            #expect(got.count == ids.count, "each row published once")
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("an unroutable outbox row is kept with its error, retried with a pause, and sent once routable")
        func unroutableOutboxRow() throws {
            let (probe, _) = try startProbe()
            let key = "probe.\(probe.queue).nobody-yet"
            let db = try TestStack.database()
            let id = UUID().uuidString.lowercased()
            let body = try MessageCoding.encoder().encode(Envelope(id: MessageID(id)!, type: "probe.late", payload: ["k": "v"]))
            try db.transaction { tx in
                try tx.query("""
                    INSERT INTO \(probe.schema).outbox (exchange, routing_key, message_id, type, body)
                    VALUES ($1, $2, $3, $4, $5::bytea)
                    """, [Topology.eventsExchange, key, id, "probe.late", PostgresBytes(body)])
                try tx.notify("outbox_\(probe.schema)")
            }
            var error = ""
            #expect(TestStack.eventually(10) {
                error = (try? db.query("SELECT last_error FROM \(probe.schema).outbox WHERE message_id = $1", [id])
                    .first?.optionalString("last_error") ?? nil) ?? ""
                return !error.isEmpty
            })
            #expect(error.contains("312") && error.contains("NO_ROUTE"))
            let pending = try db.query("""
                SELECT next_attempt_at > now() AS later FROM \(probe.schema).outbox WHERE message_id = $1
                """, [id])
            #expect(try pending.first?.bool("later") == true, "a returned row waits before its next try")
            let late = probe.queue + "_late"
            let c = try TestStack.connect()
            try TestStack.declare(c, queue: late, bindings: [key])
            c.close()
            #expect(TestStack.eventually(90) {
                (try? db.query("SELECT count(*) AS n FROM \(probe.schema).outbox")[0].int("n")) == 0
            })
            let got = try TestStack.drain(late)
            #expect(got.map(\.messageId) == [id])
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("a consumer recovers after the broker restarts and keeps consuming")
        func brokerRestart() throws {
            let (probe, _) = try startProbe()
            try TestStack.publish(try ProbeProcess.increments(["before"]), routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects()["before"]) == 1 })
            try TestStack.rabbitmqctl("stop_app")
            usleep(1_000_000)
            try TestStack.rabbitmqctl("start_app")
            try TestStack.publish(try ProbeProcess.increments(["after"]), routingKey: probe.inKey)
            #expect(TestStack.eventually(60) { (try? probe.effects()["after"]) == 1 },
                    "no recovery: \(probe.log.suffix(1500))")
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("an undecodable body, a huge one and a refused message land in the DLQ with their reasons; the stage goes on")
        func deadLetters() throws {
            let (probe, _) = try startProbe(env: ["MAX_MESSAGE_BYTES": "2048"])
            let dlq = Topology.deadLetterQueue(of: probe.queue)
            let poison = Envelope(type: "probe.poison", payload: ["phone": "13800138000"])
            try TestStack.publish([
                ("garbage-1", "x", Array("{not json".utf8)),
                ("wrongshape-1", "probe.increment", Array(#"{"id": 42}"#.utf8)),
                ("huge-1", "probe.increment", Array(("[" + String(repeating: "[1],", count: 2_000) + "[1]]").utf8)),
                (poison.id.description, poison.type, [UInt8](try MessageCoding.encoder().encode(poison))),
            ], routingKey: probe.inKey)
            try TestStack.publish(try ProbeProcess.increments(["still-alive"]), routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects()["still-alive"]) == 1 })
            let dead = try TestStack.drain(dlq)
            let reasons = Dictionary(uniqueKeysWithValues: dead.map {
                ($0.messageId ?? "", $0.headers[Topology.deadLetterReasonHeader] ?? "")
            })
            #expect(dead.count == 4)
            #expect(reasons["huge-1"]?.contains("too large") == true, "\(reasons["huge-1"] ?? "-")")
            #expect(reasons["garbage-1"]?.contains("undecodable envelope") == true)
            #expect(reasons["wrongshape-1"]?.contains("undecodable envelope") == true)
            let poisonReason = try #require(reasons[poison.id.description])
            #expect(poisonReason.contains("probe refuses poison"))
            #expect(!poisonReason.contains("13800138000") && poisonReason.contains("138****8000"))
            #expect(!poisonReason.contains("someone@"))
            // The dead letter's body is masked too.
            let poisonBody = String(decoding: dead.first { $0.messageId == poison.id.description }!.body, as: UTF8.self)
            #expect(!poisonBody.contains("13800138000"))
            #expect(!probe.log.contains("13800138000"))
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("a deferred write that fails at the window's COMMIT dead-letters its message alone, at once")
        func deferredFailureAtCommit() throws {
            let (probe, _) = try startProbe()
            let dlq = Topology.deadLetterQueue(of: probe.queue)
            let failing = Envelope(type: "probe.deferred-fail", payload: ["key": "deferred"])
            // Alone in its window, so nothing after it in the window sends the failing write before the COMMIT does.
            try TestStack.publish([(failing.id.description, failing.type,
                                    [UInt8](try MessageCoding.encoder().encode(failing)))], routingKey: probe.inKey)
            let started = Date()
            var dead: [Delivery] = []
            #expect(TestStack.eventually(15) {
                dead += (try? TestStack.drain(dlq, quietMillis: 200)) ?? []
                return !dead.isEmpty
            })
            // Not after the ~20 s of retries a window's failed commit gets when retrying can help.
            #expect(Date().timeIntervalSince(started) < 15)
            #expect(dead.map(\.messageId) == [failing.id.description])
            #expect(dead.first?.headers[Topology.deadLetterReasonHeader]?.contains("division by zero") == true,
                    "\(dead.first?.headers[Topology.deadLetterReasonHeader] ?? "-")")
            try TestStack.publish(try ProbeProcess.increments(["after-deferred"]), routingKey: probe.inKey)
            #expect(TestStack.eventually(20) { (try? probe.effects()["after-deferred"]) == 1 })
            #expect(try probe.effects()["deferred"] == nil)
            probe.terminate()
            #expect(probe.waitForExit() == 0)
        }

        @Test("a loop of the stage that ends on its own ends the process non-zero, after the others drained")
        func loopEndingEndsTheProcess() throws {
            // Before one ServiceGroup per process, a stage thread that died was only logged (intake, payout) or
            // ended the process at once, leaving what the consumer had committed in the outbox.
            let (probe, out) = try startProbe(env: ["PROBE_LOOP_ENDS_AFTER_MS": "3000", "PROBE_HANDLE_DELAY_MS": "4",
                                                    "BATCH_SIZE": "20"])
            let keys = (0..<2000).map { "fragile-\($0)" }
            try TestStack.publish(try ProbeProcess.increments(keys), routingKey: probe.inKey)
            #expect(probe.waitForExit(seconds: 30) == 1, "a half-alive stage must exit non-zero")
            #expect(probe.log.contains("the stage-probe-fragile loop ended unexpectedly"))
            let committed = try probe.effects().count
            #expect(committed > 0 && committed < keys.count, "the loop should end mid-burst")
            // The group drained in order: the consumer finished its window, then the relay published it all.
            let db = try TestStack.database()
            defer { db.close() }
            let left = try db.query("SELECT count(*)::int AS n FROM \(probe.schema).outbox")[0].int("n")
            #expect(left == 0, "what was committed is published before the process exits")
            #expect(try TestStack.drain(out).count == committed)
        }

        @Test("SIGTERM during a burst loses nothing and does nothing twice")
        func sigtermDuringBurst() throws {
            let (probe, out) = try startProbe(env: ["PROBE_HANDLE_DELAY_MS": "3", "BATCH_SIZE": "20"])
            let keys = (0..<400).map { "burst-\($0)" }
            try TestStack.publish(try ProbeProcess.increments(keys), routingKey: probe.inKey)
            #expect(TestStack.eventually(30) { (try? probe.effects().count) ?? 0 >= 40 })
            probe.terminate()
            #expect(probe.waitForExit() == 0, "graceful stop exits 0")
            let partial = try probe.effects().count
            #expect(partial < keys.count, "the burst should have been cut mid-way")
            #expect(probe.log.contains("\"msg\":\"stopped\""))

            let restarted = try ProbeProcess(queue: probe.queue, schema: probe.schema)
            try restarted.waitUntilConsuming()
            #expect(TestStack.eventually(60) { (try? restarted.effects().count) == keys.count })
            let effects = try restarted.effects()
            #expect(effects.count == keys.count && effects.values.allSatisfy { $0 == 1 })
            let done = try TestStack.drain(out)
            #expect(Set(done.compactMap(\.correlationId)) == Set(keys))
            restarted.terminate()
            #expect(restarted.waitForExit() == 0)
        }
    }
}

extension Component.RuntimeTests {
    @Test("a message that crashes its consumer reaches the DLQ masked, with its reason and publisher")
    func brokerDeadLettersAreMasked() throws {
        let queue = TestStack.unique("probe")
        let env = ["DELIVERY_LIMIT": "1"]
        let body = Array(#"{"id":"6f1c2f9e-1d2b-4c9a-9a43-1b0c8f1e2d3a","type":"probe.crash","schemaVersion":1,"# .utf8)
            + Array(#""occurredAt":"2026-11-30T10:00:00.000Z","payload":{"phone":"13800138000","#.utf8)
            + Array(#""email":"zhang.wei@example.com","card":"6222020200112233445"}}"#.utf8)
        var probe = try ProbeProcess(queue: queue, schema: queue, env: env)
        try probe.waitUntilConsuming()
        try TestStack.publish([("6f1c2f9e-1d2b-4c9a-9a43-1b0c8f1e2d3a", "probe.crash", body)], routingKey: probe.inKey)
        var dead: [Delivery] = []
        var crashes = 0
        for _ in 0..<6 where dead.isEmpty {
            // It dies on the message (the broker counts the delivery), or lives once the message is gone.
            if probe.waitForExit(seconds: 10) == 3 { crashes += 1 }
            probe = try ProbeProcess(queue: queue, schema: queue, env: env)
            dead = try TestStack.drain(Topology.deadLetterQueue(of: queue), quietMillis: 2_000)
        }
        #expect(crashes >= 1)
        probe.terminate()
        _ = probe.waitForExit()
        let letter = try #require(dead.first, "the crashing message never reached \(queue).dlq")
        let text = String(decoding: letter.body, as: UTF8.self)
        #expect(!text.contains("13800138000") && text.contains("138****8000"), "\(text)")
        #expect(!text.contains("zhang.wei") && !text.contains("6222020200112233445"), "\(text)")
        #expect(letter.headers[Topology.deadLetterReasonHeader]?.contains("delivery limit") == true)
        #expect(letter.headers["x-original-user-id"] == (try TestStack.amqpURL().user))
        #expect(try TestStack.drain(Topology.quarantineQueue(of: queue), quietMillis: 300).isEmpty, "nothing left unmasked")
        // The original is kept, unmasked, for an operator to replay: with the routing key it was published under
        // (read from the broker's x-death record) and its validated publisher.
        let db = try TestStack.database()
        defer { db.close() }
        let kept = try db.query("""
            SELECT routing_key, publisher, reason, body, state FROM \(queue).dead_letters WHERE message_id = $1
            """, ["6f1c2f9e-1d2b-4c9a-9a43-1b0c8f1e2d3a"])
        #expect(kept.count == 1)
        #expect(try kept.first?.string("routing_key") == probe.inKey)
        #expect(try kept.first?.string("publisher") == (try TestStack.amqpURL().user))
        #expect(try kept.first?.string("reason").contains("delivery limit") == true)
        #expect(try kept.first?.bytes("body") == body)
        #expect(try kept.first?.string("state") == "held")
    }
}

extension Component.RuntimeTests {
    @Test("a message that crashes its consumer reaches the DLQ alone: the innocent messages of its window are handled")
    func poisonIsolated() throws {
        let queue = TestStack.unique("probe")
        let env = ["DELIVERY_LIMIT": "2", "BATCH_SIZE": "100"]
        var probe = try ProbeProcess(queue: queue, schema: queue, env: env)
        try probe.waitUntilConsuming()
        let before = (0..<20).map { "innocent-a\($0)" }, after = (0..<20).map { "innocent-b\($0)" }
        let crash = Envelope(type: "probe.crash", payload: ["key": "poison"])
        // One burst, so the poison shares its window (and the broker's prefetch) with the innocent messages.
        try TestStack.publish(try ProbeProcess.increments(before)
            + [(crash.id.description, crash.type, [UInt8](try MessageCoding.encoder().encode(crash)))]
            + (try ProbeProcess.increments(after)), routingKey: probe.inKey)
        var dead: [Delivery] = []
        for _ in 0..<8 {
            _ = probe.waitForExit(seconds: 5)
            if (try? probe.effects().count) == 40, !dead.isEmpty { break }
            if probe.waitForExit(seconds: 0) != nil { probe = try ProbeProcess(queue: queue, schema: queue, env: env) }
            dead += try TestStack.drain(Topology.deadLetterQueue(of: queue), quietMillis: 1_500)
        }
        #expect(dead.count == 1 && dead.first?.messageId == crash.id.description,
                "dead-lettered: \(dead.map { $0.messageId ?? "-" })")
        #expect(try probe.effects().count == 40, "every innocent message was handled")
        probe.terminate()
        _ = probe.waitForExit()
    }
}

extension Component.RuntimeTests {
    @Test("timers are never lost: a failing one is retried with its error, a crashing one parked; the others fire")
    func timersRetriedThenParked() throws {
        let queue = TestStack.unique("probe")
        let env = ["TIMER_MAX_ATTEMPTS": "2", "TIMER_LEASE_SECONDS": "1", "DEADLINE_POLL_MS": "100"]
        var probe = try ProbeProcess(queue: queue, schema: queue, env: env)
        try probe.waitUntilConsuming()
        func schedule(_ kind: String) throws -> String {
            let e = Envelope(type: "probe.schedule", payload: ["key": kind])
            try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                                  routingKey: probe.inKey)
            return e.id.description
        }
        let ok = try schedule("probe-ok"), failing = try schedule("probe-fail")
        #expect(TestStack.eventually(10) { (try? probe.effects()["timer:\(ok)"]) == 1 })
        let db = try TestStack.database()
        defer { db.close() }
        func timer(_ key: String) throws -> (attempts: Int, error: String?, parked: Bool)? {
            try db.query("SELECT attempts, last_error, parked_at IS NOT NULL AS parked FROM \(queue).deadlines WHERE key = $1",
                         [key]).first.map { (try $0.int("attempts"), try $0.optionalString("last_error"), try $0.bool("parked")) }
        }
        // The failing timer is kept, with its (masked) error, retried, then parked.
        #expect(TestStack.eventually(15) { (try? timer(failing))??.parked == true }, "the failing timer was not parked")
        let f = try #require(try timer(failing))
        #expect(f.attempts == 2 && f.error?.contains("probe timer refuses") == true)
        #expect(f.error?.contains("13800138000") == false, "the stored error is masked")
        // A timer whose handler kills the process is counted per claim and parked, not fired forever.
        let crashing = try schedule("probe-crash")
        for _ in 0..<6 {
            if (try? timer(crashing))??.parked == true { break }
            if probe.waitForExit(seconds: 5) != nil { probe = try ProbeProcess(queue: queue, schema: queue, env: env) }
        }
        let crashed = try timer(crashing)
        #expect(crashed?.parked == true, "\(String(describing: crashed))")
        let after = try schedule("probe-ok")
        #expect(TestStack.eventually(10) { (try? probe.effects()["timer:\(after)"]) == 1 }, "the stage still fires timers")
        probe.terminate()
        _ = probe.waitForExit()
    }
}

extension Component {
    @Suite("Readiness and liveness", .serialized)
    struct HealthTests {
        /// Runs `scripts/stack ARG` for the test stack, its output in a file (a started server would hold a pipe).
        static func stack(_ arg: String) throws -> Int32 {
            let log = NSTemporaryDirectory() + "stack-\(arg)-\(UUID().uuidString.prefix(6)).log"
            return try TestStack.run("/usr/bin/timeout", ["90", "/bin/sh", "-c", "\"$0\" \(arg) > \"$1\" 2>&1",
                                                          TestStack.repoRoot.appendingPathComponent("scripts/stack").path,
                                                          log], env: ["STACK_NAME": TestStack.stackName]).status
        }

        @Test("/ready turns 503 within seconds of RabbitMQ or PostgreSQL going away and 200 when back; /live stays up")
        func readiness() throws {
            let s = try ServiceProcesses(["auto-review"])
            defer { s.stop() }
            #expect(TestStack.eventually(20) { s.health("auto-review", "/ready") == 200 }, "ready once connected")
            #expect(s.health("auto-review", "/live") == 200)
            #expect(s.health("auto-review", "/nothing") == 404)

            try TestStack.rabbitmqctl("stop_app")
            let brokerGone = TestStack.eventually(10) { s.health("auto-review", "/ready") == 503 }
            let liveWithoutBroker = s.health("auto-review", "/live")
            try TestStack.rabbitmqctl("start_app")
            #expect(brokerGone, "not ready without the broker")
            #expect(liveWithoutBroker == 200, "live without the broker")
            #expect(TestStack.eventually(60) { s.health("auto-review", "/ready") == 200 }, "ready with the broker back")

            #expect(try Self.stack("pg-stop") == 0)
            let databaseGone = TestStack.eventually(10) { s.health("auto-review", "/ready") == 503 }
            let liveWithoutDatabase = s.health("auto-review", "/live")
            #expect(try Self.stack("pg-start") == 0)
            #expect(databaseGone, "not ready without the database")
            #expect(liveWithoutDatabase == 200, "live without the database")
            #expect(TestStack.eventually(60) { s.health("auto-review", "/ready") == 200 }, "ready with the database back")
        }
    }
}

extension Component.RuntimeTests {
    @Test("a row the broker refuses outright (an exchange that does not exist) is set aside with its reason; the rows behind it are published")
    func refusedRowDoesNotBlock() throws {
        let (probe, out) = try startProbe()
        let db = try TestStack.database()
        defer { db.close() }
        func row(_ exchange: String, _ key: String) throws -> String {
            let e = Envelope(type: "probe.done", correlationId: key, payload: ["key": key])
            try db.execute("""
                INSERT INTO \(probe.schema).outbox (exchange, routing_key, message_id, type, correlation_id, body)
                VALUES ($1, $2, $3, $4, $5, $6::bytea)
                """, [exchange, probe.outKey, e.id.description, e.type, key,
                      PostgresBytes(try MessageCoding.encoder().encode(e))])
            return e.id.description
        }
        // One transaction's worth: the refused row first, so a whole-batch round would fail on it every time.
        let refusedId = try row("no-such-exchange", "refused")
        _ = try row(Topology.eventsExchange, "behind-1")
        _ = try row(Topology.eventsExchange, "behind-2")
        try db.notify("outbox_\(probe.schema)")
        var got: [Delivery] = []
        #expect(TestStack.eventually(30) {
            got += (try? TestStack.drain(out, quietMillis: 300)) ?? []
            return Set(got.compactMap(\.correlationId)).isSuperset(of: ["behind-1", "behind-2"])
        }, "rows behind a refused one are published")
        let kept = try db.query("SELECT last_error, attempts FROM \(probe.schema).outbox WHERE message_id = $1",
                                [refusedId])
        #expect(kept.count == 1)
        let lastError = try kept.first?.optionalString("last_error") ?? "-"
        #expect(lastError.contains("404"), "\(lastError)")
        probe.terminate()
        #expect(probe.waitForExit() == 0)
    }
}
