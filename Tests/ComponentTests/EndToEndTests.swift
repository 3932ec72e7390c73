import AMQP
import Foundation
import RefundModel
import Testing

extension Component {
    /// The whole system as a marketplace runs it: the five real executables, RabbitMQ, PostgreSQL, and the outside
    /// world played by the sandboxes (suppliers over AMQP, payment channels over HTTP with signed callbacks, the SMS
    /// gateway over HTTP and an SMTP server). Each platform profile of `Tools/profiles` drives the nine refunds of
    /// issue 6 through the public interfaces only: order events and buyer profiles over AMQP, the HTTP API.
    @Suite("End to end: the four platforms of the source articles")
    struct EndToEndTests {
        static let profiles = ["zhongshang", "generic-league", "957", "liyun"]

        @Test("nine refunds per platform profile: final state, fen, timeline and exactly the notifications", arguments: profiles)
        func platform(_ name: String) throws {
            let world = try World(profile: name)
            defer { world.stop() }
            let results = try world.runAll()
            for r in results {
                #expect(r.state == r.expected.state, "\(name) \(r.expected.name): state \(r.state)\n\(r.timelineText)")
                #expect(r.amountFen == r.expected.amountFen, "\(name) \(r.expected.name): amount \(r.amountFen ?? -1)")
                #expect(r.statusSteps == r.expected.steps,
                        "\(name) \(r.expected.name): steps \(r.statusSteps) expected \(r.expected.steps)\n\(r.timelineText)")
                // Exactly one message per step on each channel the buyer has (a step repeated is not news).
                #expect(r.inboxSteps == r.expected.notified.sorted(), "\(name) \(r.expected.name): inbox \(r.inboxSteps)")
                #expect(r.smsCount == r.expected.notified.count, "\(name) \(r.expected.name): \(r.smsCount) SMS")
                #expect(r.mailCount == r.expected.notified.count, "\(name) \(r.expected.name): \(r.mailCount) e-mails")
                // In the buyer's language, and the money in yuan once it is known.
                let prefix = r.locale == .en ? "[Refund] " : "【退款】"
                #expect(r.smsTexts.allSatisfy { $0.hasPrefix(prefix) }, "\(name) \(r.expected.name): \(r.smsTexts)")
                if let fen = r.expected.amountFen {
                    let yuan = "¥\(fen / 100).\(String(format: "%02d", fen % 100))"
                    #expect(r.smsTexts.contains { $0.contains(yuan) }, "\(name) \(r.expected.name): no \(yuan) in \(r.smsTexts)")
                }
                if let check = r.expected.check { check(r) }
            }
            // refundctl refund show: one credited refund's story from every service's schema, masked.
            if let credited = results.first(where: { $0.state == "credited" && $0.smsCount > 0 }),
               let id = credited.refund["id"] as? String {
                let shown = try TestStack.run(TestStack.binPath + "/refundctl", ["refund", "show", id, "--json"],
                                              env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
                #expect(shown.status == 0, "\(shown.output)")
                let sections = (try? JSONSerialization.jsonObject(with: Data(shown.output.utf8))) as? [[String: Any]] ?? []
                func rows(_ prefix: String) -> [[String: String]] {
                    sections.filter { ($0["title"] as? String)?.hasPrefix(prefix) == true }
                        .flatMap { $0["rows"] as? [[String: String]] ?? [] }
                }
                #expect(rows("intake: timeline").contains { $0["step"] == "credited" }, "\(shown.output.prefix(800))")
                #expect(rows("intake: the refund").first?["state"] == "credited")
                #expect(rows("payout: the payout").first?["state"] == "succeeded")
                let deliveries = rows("notification: deliveries")
                #expect(deliveries.count >= credited.smsCount, "\(deliveries)")
                #expect(deliveries.filter { $0["medium"] == "sms" }.allSatisfy { $0["address"]?.contains("****") == true },
                        "phone numbers masked: \(deliveries)")
                let unknown = try TestStack.run(TestStack.binPath + "/refundctl", ["refund", "show", UUID().uuidString],
                                                env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
                #expect(unknown.status == 3, "no service knows it: \(unknown.output)")
            } else {
                Issue.record("\(name): no credited refund with an SMS to show")
            }
            // Each service's /metrics parses and its counters moved with these refunds.
            for service in ["intake", "auto-review", "supplier-verification", "payout", "notification"] {
                let page = try #require(world.services.metrics(service), "\(service): no /metrics")
                #expect(page.malformed.isEmpty, "\(service): \(page.malformed.prefix(3))")
                #expect(page.value("refunds_messages_total", ["outcome": "handled"]) > 0, "\(service)")
                #expect(page.value("refunds_outbox_depth") >= 0 && page.samples.contains { $0.name == "refunds_outbox_depth" },
                        "\(service): no outbox gauge")
            }
            let intake = try #require(world.services.metrics("intake"))
            #expect(intake.value("refunds_http_requests_total", ["route": "/v1/refunds", "method": "POST", "status": "201"]) > 0,
                    "\(intake.samples.filter { $0.name.hasPrefix("refunds_http") }.map(\.labels))")
            #expect(try #require(world.services.metrics("payout")).value("refunds_channel_calls_total") > 0)
            #expect(try #require(world.services.metrics("notification"))
                .value("refunds_notifications_total", ["outcome": "sent"]) > 0)
            // The dashboard in the repository charts only metrics the services really export (two appear with
            // their first event, which these refunds do not cause).
            let exported = Set(["intake", "auto-review", "supplier-verification", "payout", "notification"]
                .flatMap { world.services.metrics($0)?.samples.map(\.name) ?? [] })
                .union(["refunds_dead_letters_total", "refunds_stuck_raised_total"])
            let dashboard = try String(contentsOf: TestStack.repoRoot
                .appendingPathComponent("Tools/observability/grafana-dashboard.json"), encoding: .utf8)
            let charted = Set(dashboard.matches(of: /refunds_[a-z_]+/).map { String($0.output) })
            #expect(charted.count >= 10 && charted.isSubset(of: exported), "not exported: \(charted.subtracting(exported))")
        }
    }
}

/// One scenario's expectation.
struct Expected: @unchecked Sendable {
    let name: String
    let state: String
    let amountFen: Int64?
    /// The `refund.status.*` steps in the order the timeline records them.
    let steps: [String]
    var check: ((Outcome) -> Void)? = nil
    /// The steps the buyer is told of: the same step twice in a row (asking the supplier, then its answer) is one.
    var notified: [String] { steps.enumerated().filter { $0.offset == 0 || steps[$0.offset - 1] != $0.element }.map(\.element) }
}

/// What a scenario ended with, read back through the public interfaces and the sandboxes.
struct Outcome {
    let expected: Expected
    let refund: [String: Any]
    let inboxSteps: [String]
    let smsCount: Int
    let mailCount: Int
    let smsTexts: [String]
    let locale: BuyerLocale

    var state: String { refund["state"] as? String ?? "?" }
    var amountFen: Int64? { ((refund["amount"] as? [String: Any])?["minorUnits"] as? NSNumber)?.int64Value }
    var timeline: [[String: Any]] { refund["timeline"] as? [[String: Any]] ?? [] }
    /// Steps the stages reported (not the actions intake recorded as the buyer or a reviewer took them).
    var statusSteps: [String] {
        timeline.filter { $0["kind"] as? String == "status" }.compactMap { $0["step"] as? String }
    }
    var timelineText: String {
        timeline.map { "  \($0["step"] ?? "") by \($0["actor"] ?? "") — \($0["explanation"] ?? "")" }.joined(separator: "\n")
    }
}
