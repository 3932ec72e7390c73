import AMQP
import Foundation
import RefundModel
import Testing

/// Everything of one end-to-end run: a platform profile's settings, the five services, the three sandboxes, and
/// the marketplace's and buyers' side (order events, buyer profiles, HTTP calls).
final class World {
    let name: String
    let profile: [String: String]
    let tag = String(UUID().uuidString.prefix(6))
    let services: ServiceProcesses
    var tools: [Process] = []
    let paymentPort = TestStack.freePort()
    let callbackPort = TestStack.freePort()
    let notifyPort = TestStack.freePort()
    let smtpPort = TestStack.freePort()
    static let callbackSecret = "e2e-callback-secret-000001"
    /// Test-only time compression: a silent supplier is decided after this, not the profile's 24 h.
    static let supplierAnswerSeconds = "4"

    /// Reads `Tools/profiles/<name>.env` (KEY=VALUE lines, # comments).
    static func loadProfile(_ name: String) throws -> [String: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Tools/profiles/\(name).env"), encoding: .utf8)
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && line.contains("=") {
            let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
            out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    func buyer(_ n: Int) -> String { "e2e-\(name)-\(tag)-\(n)" }
    func token(_ n: Int) -> String { "tok-\(buyer(n))-credential" }
    func order(_ n: Int, _ suffix: String = "") -> String { "E2E\(tag)\(suffix)N\(n)Z" }

    init(profile name: String) throws {
        self.name = name
        profile = try Self.loadProfile(name)
        var tokens = [("reviewer-token-r1-test-credential", "reviewer:r-1"),
                      ("reviewer-token-r2-test-credential", "reviewer:r-2")]
        for n in 1...12 { tokens.append(("tok-e2e-\(name)-\(tag)-\(n)-credential", "buyer:e2e-\(name)-\(tag)-\(n)")) }
        tools.append(try ServiceProcesses.launchTool("payment-sandbox", env: [
            "SANDBOX_HTTP_PORT": String(paymentPort), "SANDBOX_PROCESSING_SECONDS": "1",
            "SANDBOX_CALLBACK_URL": "http://127.0.0.1:\(callbackPort)/v1/channel-callbacks",
            "SANDBOX_CALLBACK_SECRET": Self.callbackSecret,
        ], ready: "Server started").0)
        tools.append(try ServiceProcesses.launchTool("notify-sandbox", env: [
            "SANDBOX_HTTP_PORT": String(notifyPort), "SANDBOX_SMTP_PORT": String(smtpPort),
        ], ready: "Server started").0)
        let env = profile.merging([
            "API_TOKENS": TestStack.tokenEntries(tokens),
            "SUPPLIER_IDS": "sup-confirm,sup-silent", "SUPPLIER_ANSWER_SECONDS": Self.supplierAnswerSeconds,
            "CHANNEL_URL": "http://127.0.0.1:\(paymentPort)", "CALLBACK_PORT": String(callbackPort),
            "CHANNEL_SECRETS": "*=\(Self.callbackSecret)", "CHANNEL_TIMEOUT_SECONDS": "2", "PAYOUT_POLL_SECONDS": "0.5",
            "SMS_URL": "http://127.0.0.1:\(notifyPort)/v1/sms", "SMTP_URL": "smtp://127.0.0.1:\(smtpPort)",
            "NOTIFY_RETRY_SECONDS": "0.2", "NOTIFY_POLL_MILLIS": "50",
        ]) { $1 }
        services = try ServiceProcesses.orStop(tools) {
            try ServiceProcesses(["intake", "auto-review", "supplier-verification", "payout", "notification"], env: env)
        }
        // The suppliers' systems connect last: their request queues exist once supplier-verification declared them.
        tools.append(try ServiceProcesses.launchTool(
            "supplier-sandbox", env: ["SANDBOX_SUPPLIERS": "sup-confirm=confirmed,sup-silent=silent"],
            ready: "consuming as").0)
    }

    /// A failed start (after the services were up) still stops the tools; the services stop with their object.
    deinit {
        for t in tools where t.isRunning { t.terminate() }
    }

    func stop() {
        services.stop()
        for t in tools {
            t.terminate()
            t.waitUntilExit()
        }
    }

    // MARK: - The marketplace and the buyers

    func profileBuyer(_ n: Int) throws {
        let p = BuyerProfile(buyerId: buyer(n), phone: String(format: "139%08d", n * 1_111 + 7), 
                             email: "buyer\(n).\(tag.lowercased())@example.com", locale: n % 2 == 0 ? .en : .zh,
                             updatedAt: Date())
        let e = Envelope(type: MessageType.buyerProfile, payload: p)
        try TestStack.publish([(e.id.description, e.type, [UInt8](try MessageCoding.encoder().encode(e)))],
                              routingKey: Topology.Key.buyerProfile)
    }

    static func fen(_ n: Int64) -> Money { try! Money(minorUnits: n) }

    func place(_ id: String, buyer n: Int, kind: ProductKind = .cardCode, paid: Int64, list: Int64? = nil,
               channel: PaymentChannel = .alipay, supplier: String = "sup-confirm", delivered: Bool = true,
               configure: (inout OrderLineFacts) -> Void = { _ in }) throws {
        var line = OrderLineFacts(lineId: "L1", productKind: kind, supplierId: supplier, listPrice: Self.fen(list ?? paid),
                                  paid: Self.fen(paid), deliveredAt: delivered ? Date().addingTimeInterval(-7_200) : nil)
        configure(&line)
        let facts = OrderFacts(orderId: id, buyerId: buyer(n), paymentChannel: channel,
                               placedAt: Date().addingTimeInterval(-10_800), paidAt: Date().addingTimeInterval(-10_800),
                               promisedDeliveryAt: Date().addingTimeInterval(-3_600), lines: [line])
        try Component.IntakeAPITests.place(services, facts)
    }

    func apply(_ id: String, buyer n: Int, reason: RefundReason, evidence: [EvidenceKind],
               extra: [String: Any] = [:]) throws -> String {
        let body = Component.IntakeAPITests.applyBody(id, reason: reason, evidence: evidence, extra: extra)
        let r = try services.http("POST", "/v1/refunds", token: token(n), body: services.json(body),
                                  headers: ["Idempotency-Key": UUID().uuidString])
        return try #require(r.json["id"] as? String, "\(name): apply \(id): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
    }

    func refund(_ id: String, buyer n: Int) throws -> [String: Any] {
        try services.http("GET", "/v1/refunds/\(id)", token: token(n)).json
    }

    @discardableResult
    func wait(_ id: String, buyer n: Int, for state: String, seconds: Double = 30) throws -> [String: Any] {
        try services.waitForRefund(id, token: token(n), seconds: seconds) { $0["state"] as? String == state }
    }

    func decide(_ id: String, reviewer: String, _ body: [String: Any]) throws {
        let r = try services.http("POST", "/v1/review/\(id)/decision", token: reviewer, body: services.json(body))
        #expect(r.status == 202, "\(name): decision on \(id): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
    }

    func sandboxMessages(_ path: String, port: Int) throws -> [[String: Any]] {
        try services.http("GET", "http://127.0.0.1:\(port)\(path)", token: nil, absolute: true).json["messages"]
            as? [[String: Any]] ?? []
    }

    func outcome(_ e: Expected, id: String, order: String, buyer n: Int) throws -> Outcome {
        let inbox = try services.http("GET", "/v1/messages?limit=200", token: token(n)).json["messages"]
            as? [[String: Any]] ?? []
        let sms = try sandboxMessages("/sms", port: notifyPort).filter { ($0["text"] as? String)?.contains(order) == true }
        let mail = try sandboxMessages("/mail", port: notifyPort).filter { ($0["body"] as? String)?.contains(order) == true }
        return Outcome(expected: e, refund: try refund(id, buyer: n),
                       inboxSteps: inbox.filter { $0["refundId"] as? String == id }.compactMap { $0["step"] as? String }.sorted(),
                       smsCount: sms.count, mailCount: mail.count,
                       smsTexts: sms.compactMap { $0["text"] as? String }, locale: n % 2 == 0 ? .en : .zh)
    }
}
