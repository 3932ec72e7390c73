import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefundModel
import StageRuntime

/// Drives a few refunds through the running system the way a marketplace, a buyer and a reviewer would (AMQP order
/// events, the HTTP API), and prints their timelines. `scripts/run` runs it last.
///
/// Each of the eight refunds must end where the product says it does (DOMAIN.md); any that does not is named and the
/// demo exits 1, so the container test and `scripts/run` can rely on it as a check, not only a show. Last, a burst
/// of refunds on one product must get that product flagged in the refund-rate analytics (DOMAIN.md §7).
///
/// `refund-demo order ORDER_ID BUYER_ID FEN` publishes one order event and exits (AMQP_URL only).
///
/// Settings: AMQP_URL (the marketplace's AMQP user, the only one whose order events count), INTAKE_URL, BUYER_TOKEN, REVIEWER_TOKEN, BUYER_ID,
/// SUPPLIER_ANSWER_SECONDS (how long supplier-verification waits for a silent supplier).
let env = ProcessInfo.processInfo.environment
func setting(_ name: String) -> String {
    guard let v = env[name], !v.isEmpty else {
        FileHandle.standardError.write(Data("refund-demo: \(name) is required\n".utf8))
        exit(2)
    }
    return v
}
// `refund-demo order ORDER_ID BUYER_ID FEN`: publishes one order.placed as the marketplace (an undelivered card code
// paid by Alipay, one line "1"), so a newcomer can apply for it with curl; `scripts/run` prints the lines to copy.
if CommandLine.arguments.count == 5, CommandLine.arguments[1] == "order" {
    let (orderId, buyer) = (CommandLine.arguments[2], CommandLine.arguments[3])
    guard let fen = Int64(CommandLine.arguments[4]), let money = try? Money(minorUnits: fen), fen > 0 else {
        FileHandle.standardError.write(Data("refund-demo: FEN must be a positive whole number of fen\n".utf8))
        exit(2)
    }
    let facts = OrderFacts(orderId: orderId, buyerId: buyer, paymentChannel: .alipay, placedAt: Date(), paidAt: Date(),
                           promisedDeliveryAt: Date().addingTimeInterval(-600),
                           lines: [OrderLineFacts(lineId: "1", productKind: .cardCode, supplierId: "sup-confirm",
                                                  listPrice: money, paid: money, deliveredAt: nil)])
    do {
        try publish(Topology.Key.orderPlaced, OrderEvent(orderId: orderId, order: facts), correlationId: orderId)
    } catch {
        print("refund-demo: cannot publish the order event: \(error)")
        exit(1)
    }
    print("order.placed published: \(orderId) for buyer \(buyer), \(fen) fen, line 1 (an undelivered card code)")
    exit(0)
}
let intake = setting("INTAKE_URL"), reviewerToken = setting("REVIEWER_TOKEN")
/// Each demo refund has a buyer of its own (token BUYER_TOKEN-n, buyer BUYER_ID-n), so the risk rule for frequent
/// applicants does not turn the demo into a queue of manual reviews.
nonisolated(unsafe) var buyerIndex = 1
var buyerToken: String { setting("BUYER_TOKEN") + "-\(buyerIndex)" }
var buyerId: String { setting("BUYER_ID") + "-\(buyerIndex)" }


func http(_ method: String, _ path: String, token: String, body: [String: Any]? = nil) -> (Int, [String: Any]) {
    var r = URLRequest(url: URL(string: intake + path)!)
    r.httpMethod = method
    r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    r.setValue(UUID().uuidString, forHTTPHeaderField: "Idempotency-Key")
    if let body { r.httpBody = try! JSONSerialization.data(withJSONObject: body) }
    guard case .answered(let status, let data) = BlockingHTTP.send(r, timeout: 30) else { return (0, [:]) }
    return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
}

@MainActor func publish<P: Codable & Sendable>(_ key: String, _ payload: P, correlationId: String? = nil) throws {
    let e = Envelope(type: key, correlationId: correlationId, payload: payload)
    let url = try AMQPURL(parsing: setting("AMQP_URL"))
    let c = try AMQPConnection(url: url)
    defer { c.close() }
    try c.enableConfirms()
    // user_id: the services act only on order events the broker vouches came from the marketplace's own user.
    let seq = try c.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: key,
                                            messageId: e.id.description, type: e.type, correlationId: correlationId,
                                            userId: url.user, body: [UInt8](try MessageCoding.encoder().encode(e))))
    guard try c.waitForConfirms()[seq] == .confirmed else { throw AMQPError(.connection, "\(key) not confirmed") }
}

/// How the marketplace tells notification to reach a buyer: a demo phone and e-mail, Chinese or English.
@MainActor func publishProfile() throws {
    try publish(Topology.Key.buyerProfile, BuyerProfile(
        buyerId: buyerId, phone: String(format: "1380000%04d", buyerIndex), email: "\(buyerId)@example.com",
        locale: buyerIndex % 2 == 0 ? .en : .zh, updatedAt: Date()))
}

@MainActor func placeOrder(_ id: String, paidFen: Int64, supplier: String = "sup-confirm", delivered: Bool = false,
                           channel: PaymentChannel = .alipay, productId: String? = nil) throws {
    try publishProfile()
    let money = try Money(minorUnits: paidFen)
    let facts = OrderFacts(orderId: id, buyerId: buyerId, paymentChannel: channel, placedAt: Date(), paidAt: Date(),
                           promisedDeliveryAt: Date().addingTimeInterval(-600),
                           lines: [OrderLineFacts(lineId: "1", productKind: .cardCode, supplierId: supplier,
                                                  listPrice: money, paid: money,
                                                  deliveredAt: delivered ? Date().addingTimeInterval(-300) : nil,
                                                  productId: productId)])
    try publish(Topology.Key.orderPlaced, OrderEvent(orderId: id, order: facts), correlationId: id)
}

@MainActor func apply(_ orderId: String, reason: String = "not_delivered", evidence: [String] = []) -> String {
    for _ in 0..<100 {
        let (status, body) = http("POST", "/v1/refunds", token: buyerToken,
                                  body: ["orderId": orderId, "lineId": "1", "reason": reason,
                                         "evidence": evidence.map { ["kind": $0, "reference": "demo-upload"] }])
        if status == 201, let id = body["id"] as? String { return id }
        usleep(100_000)  // the order event may still be on its way to intake
    }
    fatalError("intake never accepted the application for \(orderId)")
}

@MainActor func wait(_ id: String, for state: String, seconds: Double = 20,
          until done: ([String: Any]) -> Bool = { _ in true }) -> [String: Any] {
    var last: [String: Any] = [:]
    for _ in 0..<Int(seconds * 10) {
        last = http("GET", "/v1/refunds/\(id)", token: buyerToken).1
        if last["state"] as? String == state, done(last) { break }
        usleep(100_000)
    }
    return last
}



nonisolated(unsafe) var failures: [String] = []

/// Prints the refund's timeline and records a failure unless it is `state` (and, given, refunds `fen`).
func show(_ title: String, _ refund: [String: Any], expect state: String = "credited", fen: Int? = nil) {
    let amount = (refund["amount"] as? [String: Any])?["minorUnits"] as? Int
    if refund["state"] as? String != state || (fen != nil && amount != fen) {
        failures.append("\(title): expected \(state)\(fen.map { " of \($0) fen" } ?? ""), "
            + "got \(refund["state"] ?? "nothing")\(amount.map { " of \($0) fen" } ?? "")")
    }
    print("\n\(title): refund \(refund["id"] ?? "?") is \(refund["state"] ?? "?")"
        + (amount.map { String(format: " (¥%d.%02d)", $0 / 100, $0 % 100) } ?? ""))
    for step in refund["timeline"] as? [[String: Any]] ?? [] {
        let rule = (step["rule"] as? String).map { " [\($0)]" } ?? ""
        let why = (step["explanation"] as? String).map { " — \($0)" } ?? ""
        let next = (step["expectedNextBy"] as? String).map { " (next by \($0))" } ?? ""
        print("  \(step["at"] ?? "")  \((step["step"] as? String ?? "").padding(toLength: 22, withPad: " ", startingAt: 0))"
            + " by \(step["actor"] ?? "")\(rule)\(why)\(next)")
    }
}

let stamp = Int(Date().timeIntervalSince1970)
let fastOrder = "demo-fast-\(stamp)", bigOrder = "demo-big-\(stamp)"
do {
    try placeOrder(fastOrder, paidFen: 4_990)
    buyerIndex = 2
    try placeOrder(bigOrder, paidFen: 1_200_000)
    buyerIndex = 1
} catch {
    print("refund-demo: cannot publish order events: \(error)")
    exit(1)
}
let fast = apply(fastOrder)
show("Fast refund (undelivered card code, ¥49.90)", wait(fast, for: "credited"), fen: 4_990)
// What the buyer was told on the way (the in-app inbox; the same went out by SMS and e-mail).
usleep(500_000)
for m in (http("GET", "/v1/messages?limit=10", token: buyerToken).1["messages"] as? [[String: Any]] ?? []).reversed()
where m["refundId"] as? String == fast {
    print("    站内信 \(m["at"] ?? "")  \(m["title"] ?? ""): \(m["body"] ?? "")")
}
buyerIndex = 2
let big = apply(bigOrder)
_ = wait(big, for: "manual_review")
let (status, _) = http("POST", "/v1/review/\(big)/decision", token: reviewerToken, body: ["decision": "approve"])
if status != 202 { print("reviewer decision refused: \(status)") }
show("High amount (¥12,000) decided by a reviewer, then confirmed by its supplier",
     wait(big, for: "credited"), fen: 1_200_000)

// Supplier verification: one refund per outcome, with the sandbox's suppliers answering over AMQP.
let proof = ["order_number", "activation_failure_log"]
var bySupplier: [String: String] = [:], buyerOf: [String: Int] = [:]
for (n, supplier) in ["sup-confirm", "sup-partial", "sup-used", "sup-silent"].enumerated() {
    buyerIndex = 3 + n
    buyerOf[supplier] = buyerIndex
    let order = "demo-\(supplier)-\(stamp)"
    do { try placeOrder(order, paidFen: 10_000, supplier: supplier, delivered: true) } catch {
        print("refund-demo: cannot publish order events: \(error)")
        exit(1)
    }
    bySupplier[supplier] = apply(order, reason: "invalid_code", evidence: proof)
}
buyerIndex = buyerOf["sup-confirm"]!
show("Supplier confirms the code unused", wait(bySupplier["sup-confirm"]!, for: "credited"), fen: 10_000)
buyerIndex = buyerOf["sup-partial"]!
show("Supplier reports 40 % used: refund recomputed", wait(bySupplier["sup-partial"]!, for: "credited"), fen: 6_000)
buyerIndex = buyerOf["sup-used"]!
let used = bySupplier["sup-used"]!
_ = wait(used, for: "disputed")
_ = http("POST", "/v1/review/\(used)/decision", token: reviewerToken, body: ["decision": "approve"])
show("Supplier says used, buyer's log says otherwise: arbitrated for the buyer", wait(used, for: "credited"),
     fen: 10_000)
buyerIndex = buyerOf["sup-silent"]!
buyerIndex = 7
let closedOrder = "demo-closed-card-\(stamp)"
do { try placeOrder(closedOrder, paidFen: 8_800, delivered: true, channel: .bankCard) } catch {
    print("refund-demo: cannot publish order events: \(error)")
    exit(1)
}
let closed = apply(closedOrder, reason: "invalid_code", evidence: proof)
_ = wait(closed, for: "payout_failed")
_ = http("POST", "/v1/refunds/\(closed)/fallback", token: buyerToken, body: ["route": "balance"])
show("The bank card is closed: the buyer chooses the platform balance", wait(closed, for: "credited"), fen: 8_800)
buyerIndex = buyerOf["sup-silent"]!
let answerSeconds = Double(env["SUPPLIER_ANSWER_SECONDS"] ?? "15") ?? 15
show("Supplier silent past its deadline: decided for the buyer",
     wait(bySupplier["sup-silent"]!, for: "credited", seconds: answerSeconds + 20), fen: 10_000)
buyerIndex = 9
let faultOrder = "demo-platform-fault-\(stamp)"
do { try placeOrder(faultOrder, paidFen: 6_600, supplier: "sup-used", delivered: true) } catch {
    print("refund-demo: cannot publish order events: \(error)")
    exit(1)
}
let fault = apply(faultOrder, reason: "platform_fault")
show("Platform fault, no evidence: advance compensation pays at once; the supplier's \"used\" only books its clawback",
     wait(fault, for: "credited"), fen: 6_600)

// Refund rates (DOMAIN.md §7): 25 orders of one product, 12 of them refunded within minutes.
buyerIndex = 10
let spikeProduct = "demo-card-\(stamp)"
do {
    for n in 0..<25 { try placeOrder("demo-spike-\(stamp)-\(n)", paidFen: 1_000, productId: spikeProduct) }
} catch {
    print("refund-demo: cannot publish order events: \(error)")
    exit(1)
}
for n in 0..<12 { _ = apply("demo-spike-\(stamp)-\(n)") }
// The rates take applications in every RATE_SWEEP_SECONDS (2 s): ask until the product is flagged, up to 20 s.
var spikeRow: [String: Any]?
for _ in 0..<40 {
    let rates = http("GET", "/v1/analytics/refund-rates?dimension=product", token: reviewerToken).1
    spikeRow = (rates["rates"] as? [[String: Any]] ?? []).first { $0["key"] as? String == spikeProduct }
    if spikeRow?["flag"] != nil { break }
    usleep(500_000)
}
let week = spikeRow?["week"] as? [String: Any] ?? [:]
print("\nRefund rates: product \(spikeProduct): \(week["refunds"] ?? 0) refunds of \(week["orders"] ?? 0) orders this week "
    + "(\(week["rateBp"] ?? 0) per 10,000)" + (spikeRow?["flag"] != nil ? ", FLAGGED: \(spikeRow!["flag"]!)" : ", not flagged"))
if spikeRow?["flag"] == nil { failures.append("refund rates: \(spikeProduct) should have been flagged") }

if !failures.isEmpty {
    print("\nrefund-demo: \(failures.count) check(s) did not end as they should:")
    for f in failures { print("  " + f) }
    exit(1)
}
print("\nrefund-demo: all eight refunds ended as they should, and the product with a burst of refunds was flagged")
