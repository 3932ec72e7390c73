import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("Notification: SMS, e-mail and in-app messages on every step (DOMAIN.md §6)")
    struct NotificationTests {
        /// Notification and intake (which keeps the in-app inbox), with the notify sandbox as SMS gateway and SMTP
        /// server.
        final class Stack {
            let services: ServiceProcesses
            let sandbox: Process
            let sandboxPort = TestStack.freePort()
            let smtpPort = TestStack.freePort()

            init(sandbox extra: [String: String] = [:], notification: [String: String] = [:]) throws {
                sandbox = try ServiceProcesses.launchTool("notify-sandbox", env: [
                    "SANDBOX_HTTP_PORT": String(sandboxPort), "SANDBOX_SMTP_PORT": String(smtpPort),
                ].merging(extra) { $1 }, ready: "Server started").0
                let env = Self.notificationEnv(smsPort: sandboxPort, smtpPort: smtpPort).merging(notification) { $1 }
                services = try ServiceProcesses.orStop([sandbox]) {
                    try ServiceProcesses(["intake", "notification"], env: env)
                }
            }

            static func notificationEnv(smsPort: Int, smtpPort: Int) -> [String: String] {
                ["SMS_URL": "http://127.0.0.1:\(smsPort)/v1/sms", "SMTP_URL": "smtp://127.0.0.1:\(smtpPort)",
                 "NOTIFY_RETRY_SECONDS": "0.2", "NOTIFY_POLL_MILLIS": "50"]
            }

            func stop() {
                services.stop()
                sandbox.terminate()
                sandbox.waitUntilExit()
            }

            func sms(refund: RefundID) throws -> [[String: Any]] {
                let r = try services.http("GET", "http://127.0.0.1:\(sandboxPort)/sms", token: nil, absolute: true)
                return (r.json["messages"] as? [[String: Any]] ?? []).filter {
                    ($0["text"] as? String)?.contains(refund.orderTag) == true
                }
            }

            func mail(refund: RefundID) throws -> [[String: Any]] {
                let r = try services.http("GET", "http://127.0.0.1:\(sandboxPort)/mail", token: nil, absolute: true)
                return (r.json["messages"] as? [[String: Any]] ?? []).filter {
                    ($0["body"] as? String)?.contains(refund.orderTag) == true
                }
            }

            func inbox(_ token: String, refund: RefundID) throws -> [[String: Any]] {
                let r = try services.http("GET", "/v1/messages?limit=200", token: token)
                return (r.json["messages"] as? [[String: Any]] ?? []).filter {
                    $0["refundId"] as? String == refund.description
                }
            }
        }

        static func profile(_ buyer: String, phone: String?, email: String?, locale: BuyerLocale) throws {
            let e = Envelope(type: MessageType.buyerProfile,
                             payload: BuyerProfile(buyerId: buyer, phone: phone, email: email, locale: locale,
                                                   updatedAt: Date()))
            try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                                  routingKey: Topology.Key.buyerProfile)
        }

        /// Publishes status events as the stages do; each is sent `times` times with the same message id (redelivery).
        static func status(_ events: [RefundStatusEvent], times: Int = 1) throws {
            for event in events {
                let e = Envelope(type: MessageType.refundStatus, correlationId: event.refundId.description, payload: event)
                let body = [UInt8](try MessageCoding.encoder().encode(e))
                try TestStack.publish(Array(repeating: (e.id.description, e.type, body), count: times),
                                      routingKey: event.routingKey)
            }
        }

        static func event(_ id: RefundID, buyer: String, _ step: RefundState, amount: Int64? = nil,
                          because: Explanation? = nil, missing: [String]? = nil, next: Date? = nil,
                          overdue: Bool? = nil, at: Date? = nil) throws -> RefundStatusEvent {
            Thread.sleep(forTimeInterval: 0.002)  // each event in its own millisecond, as steps are
            return RefundStatusEvent(refundId: id, orderId: id.orderTag, buyerId: buyer, step: step, at: at ?? Date(),
                              actor: "system", because: because, amount: try amount.map { try Money(minorUnits: $0) },
                              missingEvidence: missing, expectedNextBy: next, overdue: overdue)
        }

        @Test("each step reaches SMS, e-mail and the inbox exactly once, in the buyer's language, with amount, reason and times; redeliveries change nothing; contacts stay masked in logs")
        func everyStepOnce() throws {
            let s = try Stack()
            defer { s.stop() }
            let phone = "13812345678", email = "buyer.one@example.com"
            try Self.profile("b-1", phone: phone, email: email, locale: .en)
            let id = RefundID()
            let arrival = ISO8601DateFormatter().date(from: "2026-11-25T10:00:00Z")!
            Thread.sleep(forTimeInterval: 0.5)  // the profile first, as a marketplace sends it at sign-up
            try Self.status([
                try Self.event(id, buyer: "b-1", .approved, amount: 12_345),
                try Self.event(id, buyer: "b-1", .processing, amount: 12_345, because: .init(.sentBack, ["channel": "bank_card"]),
                               next: arrival),
                try Self.event(id, buyer: "b-1", .processing, amount: 12_345, because: .init(.lateBankClearing),
                               next: arrival, overdue: true),
                try Self.event(id, buyer: "b-1", .credited, amount: 12_345),
            ], times: 2)
            #expect(TestStack.eventually(15) {
                (try? s.sms(refund: id).count) == 4 && (try? s.mail(refund: id).count) == 4
                    && (try? s.inbox(IntakeAPITests.b1, refund: id).count) == 4
            })
            Thread.sleep(forTimeInterval: 0.5)  // nothing more arrives
            let sms = try s.sms(refund: id).compactMap { $0["text"] as? String }
            #expect(sms.count == 4)
            #expect(sms.allSatisfy { $0.contains("¥123.45") }, "\(sms)")
            #expect(sms.contains { $0.contains("Expected by 2026-11-25 18:00") })
            #expect(sms.contains { $0.contains("late") && $0.contains("bank clearing") })
            let mail = try s.mail(refund: id)
            #expect(mail.count == 4)
            #expect(Set(mail.compactMap { $0["subject"] as? String })
                == ["Refund approved: ¥123.45", "Refund on its way: ¥123.45", "Your refund is late",
                    "Refund credited: ¥123.45"])
            #expect(mail.allSatisfy { ($0["to"] as? [String]) == [email] })
            // The installation's own domain (MAIL_FROM's by default) on the right of every Message-ID.
            #expect(mail.allSatisfy { ($0["messageId"] as? String)?.contains(".email@marketplace.example") == true },
                    "\(mail.map { $0["messageId"] ?? "-" })")
            let inbox = try s.inbox(IntakeAPITests.b1, refund: id)
            #expect(inbox.compactMap { $0["step"] as? String }.sorted()
                == ["approved", "credited", "processing", "processing"])
            #expect(try s.inbox(IntakeAPITests.b2, refund: id).isEmpty, "another buyer sees none of it")

            // Chinese buyer, a rejection: the reason and what to add.
            try Self.profile("b-2", phone: "13900001111", email: nil, locale: .zh)
            Thread.sleep(forTimeInterval: 0.5)
            let zh = RefundID()
            try Self.status([try Self.event(zh, buyer: "b-2", .rejected, because: .init(.consumedByBuyer),
                                            missing: ["unused_proof"])])
            #expect(TestStack.eventually(10) { (try? s.sms(refund: zh).count) == 1 })
            let text = try #require(try s.sms(refund: zh).first?["text"] as? String)
            #expect(text.contains("退款申请被驳回") && text.contains("该商品已被买家激活或使用") && text.contains("未使用证明"),
                    "\(text)")
            #expect(try s.mail(refund: zh).isEmpty, "no e-mail address, no e-mail")

            let db = try TestStack.database()
            #expect(try db.query("SELECT count(*) AS n FROM notification.deliveries WHERE refund_id = $1::uuid",
                                 [id.rawValue])[0].int("n") == 12)
            let log = s.services.log("notification")
            #expect(!log.contains(phone) && !log.contains(email), "contacts are masked in logs")
            #expect(log.contains("138****5678"))
        }

        @Test("a step repeated (the supplier's answer after asking it) or arriving after a later one is not news; a delay notice is")
        func onlyNews() throws {
            let s = try Stack()
            defer { s.stop() }
            try Self.profile("b-1", phone: "13812345678", email: "buyer.one@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 0.5)
            let id = RefundID()
            let approved = try Self.event(id, buyer: "b-1", .approved, amount: 10_000)
            // Approved reaches notification last (another queue, another instance): the buyer already knows more.
            try Self.status([
                try Self.event(id, buyer: "b-1", .supplierVerification, because: .init(.askingSupplier)),
                try Self.event(id, buyer: "b-1", .supplierVerification, because: .init(.supplierConfirmed)),
                try Self.event(id, buyer: "b-1", .processing, amount: 10_000),
                approved,
                try Self.event(id, buyer: "b-1", .processing, amount: 10_000, because: .init(.lateBankClearing),
                               overdue: true),
            ])
            #expect(TestStack.eventually(15) { (try? s.sms(refund: id).count) == 3 && (try? s.mail(refund: id).count) == 3 })
            Thread.sleep(forTimeInterval: 1)  // nothing more arrives
            let subjects = try s.mail(refund: id).compactMap { $0["subject"] as? String }
            #expect(subjects.count == 3, "\(subjects)")
            #expect(subjects.filter { $0.hasPrefix("Refund approved") }.isEmpty, "\(subjects)")
            #expect(subjects.contains("Your refund is late"), "\(subjects)")
            #expect(try s.inbox(IntakeAPITests.b1, refund: id).compactMap { $0["step"] as? String }.sorted()
                == ["processing", "processing", "supplier_verification"])
        }

        @Test("a new delivery wakes the senders: sent at once, not at their next poll")
        func wokenByWork() throws {
            // A poll of a minute: only the wake-up can send within seconds.
            let s = try Stack(notification: ["NOTIFY_POLL_MILLIS": "60000"])
            defer { s.stop() }
            try Self.profile("b-1", phone: "13812345678", email: "buyer.one@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 1.5)  // every sender has looked once and is now waiting
            let id = RefundID()
            let published = Date()
            try Self.status([try Self.event(id, buyer: "b-1", .approved, amount: 500)])
            #expect(TestStack.eventually(10) {
                (try? s.sms(refund: id).count) == 1 && (try? s.mail(refund: id).count) == 1
            }, "SMS and e-mail within seconds, with the senders' poll at a minute")
            #expect(Date().timeIntervalSince(published) < 10)
        }

        @Test("a gateway that is down is retried with backoff; refused addresses are recorded and not retried; a poison profile is dead-lettered masked")
        func faults() throws {
            let s = try Stack(sandbox: ["SANDBOX_SMS_FAIL_FIRST": "2", "SANDBOX_SMTP_FAIL_FIRST": "1"])
            defer { s.stop() }
            try Self.profile("b-1", phone: "13812345678", email: "buyer.one@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 0.5)
            let id = RefundID()
            try Self.status([try Self.event(id, buyer: "b-1", .approved, amount: 500)])
            #expect(TestStack.eventually(15) { (try? s.sms(refund: id).count) == 1 && (try? s.mail(refund: id).count) == 1 })
            let db = try TestStack.database()
            let attempts = try db.query("""
                SELECT medium, attempts, state FROM notification.deliveries WHERE refund_id = $1::uuid ORDER BY medium
                """, [id.rawValue]).map { "\(try $0.string("medium")):\(try $0.int("attempts")):\(try $0.string("state"))" }
            #expect(attempts == ["email:2:sent", "in_app:0:sent", "sms:3:sent"])

            // Refused for good: a dead number and a mailbox that does not exist.
            try Self.profile("b-2", phone: "13800000000", email: "bounce@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 0.5)
            let refused = RefundID()
            try Self.status([try Self.event(refused, buyer: "b-2", .approved, amount: 500)])
            #expect(TestStack.eventually(10) {
                (try? db.query("SELECT count(*) AS n FROM notification.deliveries WHERE refund_id = $1::uuid AND state = 'refused'",
                               [refused.rawValue])[0].int("n")) == 2
            })
            #expect(try db.query("SELECT count(*) AS n FROM notification.refused_addresses WHERE address IN ('13800000000', 'bounce@example.com')")[0].int("n") == 2)
            let later = RefundID()
            try Self.status([try Self.event(later, buyer: "b-2", .credited, amount: 500)])
            #expect(TestStack.eventually(10) {
                (try? db.query("SELECT count(*) AS n FROM notification.deliveries WHERE refund_id = $1::uuid AND state = 'refused' AND attempts = 0",
                               [later.rawValue])[0].int("n")) == 2
            }, "a refused address is not tried again")
            #expect(try s.inbox(IntakeAPITests.b2, refund: later).count == 1, "the inbox still gets it")

            // A poison profile (no buyer id, no locale): dead-lettered with its reason, the phone number masked.
            let dlq = Topology.deadLetterQueue(of: ServiceName.notification.rawValue)
            _ = try TestStack.drain(dlq, quietMillis: 200)
            let poison = Envelope(type: MessageType.buyerProfile, payload: ["phone": "13812345678"])
            try TestStack.publish([(poison.id.description, poison.type,
                                    [UInt8](try MessageCoding.encoder().encode(poison)))],
                                  routingKey: Topology.Key.buyerProfile)
            var dead: [Delivery] = []
            #expect(try TestStack.eventually(10) {
                dead += try TestStack.drain(dlq, quietMillis: 200)
                return !dead.isEmpty
            })
            let body = String(decoding: dead.first?.body ?? [], as: UTF8.self)
            #expect(dead.first?.headers[Topology.deadLetterReasonHeader]?.contains("does not decode") == true)
            #expect(!body.contains("13812345678") && body.contains("138****5678"), "\(body)")
        }

        @Test("an SMS gateway down past the attempt limit: the delivery is given up and recorded, e-mail unaffected")
        func givenUp() throws {
            let s = try Stack(sandbox: ["SANDBOX_SMS_FAIL_FIRST": "1000"], notification: ["NOTIFY_MAX_ATTEMPTS": "3"])
            defer { s.stop() }
            try Self.profile("b-1", phone: "13812345678", email: "buyer.one@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 0.5)
            let id = RefundID()
            try Self.status([try Self.event(id, buyer: "b-1", .credited, amount: 900)])
            let db = try TestStack.database()
            #expect(TestStack.eventually(15) {
                (try? db.query("""
                    SELECT count(*) AS n FROM notification.deliveries
                    WHERE refund_id = $1::uuid AND medium = 'sms' AND state = 'gave_up' AND attempts = 3
                    """, [id.rawValue])[0].int("n")) == 1
            })
            #expect(try s.mail(refund: id).count == 1)
            #expect(try s.sms(refund: id).isEmpty)
            #expect(s.services.log("notification").contains("gave up after 3 attempts"))
        }

        @Test("a slow SMS gateway delays only SMS: every e-mail arrives before the first SMS is answered")
        func slowGateway() throws {
            let s = try Stack(sandbox: ["SANDBOX_SMS_DELAY_SECONDS": "4"], notification: ["GATEWAY_TIMEOUT_SECONDS": "10"])
            defer { s.stop() }
            try Self.profile("b-1", phone: "13812345678", email: "buyer.one@example.com", locale: .zh)
            Thread.sleep(forTimeInterval: 0.5)
            let ids = [RefundID(), RefundID()]
            try Self.status(try ids.map { try Self.event($0, buyer: "b-1", .approved, amount: 100) })
            #expect(TestStack.eventually(10) { ids.allSatisfy { (try? s.mail(refund: $0).count) == 1 } })
            #expect(try ids.allSatisfy { try s.sms(refund: $0).isEmpty }, "the SMS gateway has not answered yet")
            #expect(TestStack.eventually(30) { ids.allSatisfy { (try? s.sms(refund: $0).count) == 1 } })
        }
    }
}

extension RefundID {
    /// A per-refund order id, so a test can find its own messages among everything the sandbox received.
    var orderTag: String { "N-" + description.prefix(8) }
}

extension Component.NotificationTests {
    @Test("e-mail over smtps:// with the server's certificate verified; with a wrong CA nothing is sent in clear")
    func mailOverTLS() throws {
        for (ca, delivered) in [(try TestStack.setting("TLS_CA_FILE"), true),
                                (try TestStack.setting("TLS_OTHER_CA_FILE"), false)] {
            let tlsPort = TestStack.freePort()
            let s = try Stack(notification: ["SMTP_URL": "smtps://localhost:\(tlsPort)", "SMTP_CA_FILE": ca])
            defer { s.stop() }
            let front = Process()
            front.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            front.arguments = [TestStack.repoRoot.appendingPathComponent("Tools/tls-front/tls_front.py").path,
                               String(tlsPort), String(s.smtpPort), try TestStack.setting("TLS_SERVER_CERT"),
                               try TestStack.setting("TLS_SERVER_KEY")]
            try front.run()
            defer {
                front.terminate()
                front.waitUntilExit()
            }
            let buyer = TestStack.unique("b-tls")
            try Self.profile(buyer, phone: "13800002222", email: "tls.buyer@example.com", locale: .en)
            Thread.sleep(forTimeInterval: 0.5)
            let id = RefundID()
            try Self.status([try Self.event(id, buyer: buyer, .approved, amount: 1_000)])
            // The SMS proves the step was handled; the mail arrives only through a verified TLS session.
            #expect(TestStack.eventually(15) { (try? s.sms(refund: id).count) == 1 })
            let mailed = TestStack.eventually(delivered ? 15 : 3) { (try? s.mail(refund: id).count) == 1 }
            #expect(mailed == delivered, "CA \(ca): mail delivered \(mailed)")
            if !delivered {
                #expect(s.services.log("notification").contains("SSL"), "the refusal names TLS")
            }
        }
    }
}
