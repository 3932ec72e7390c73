import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefundModel

/// Drives a few refunds through the running system the way a marketplace, a buyer and a reviewer would (AMQP order
/// events, the HTTP API), and prints their timelines. `scripts/run` runs it last.
///
/// Settings: AMQP_URL (a user that may publish order events), INTAKE_URL, BUYER_TOKEN, REVIEWER_TOKEN, BUYER_ID.
let env = ProcessInfo.processInfo.environment
func setting(_ name: String) -> String {
    guard let v = env[name], !v.isEmpty else {
        FileHandle.standardError.write(Data("refund-demo: \(name) is required\n".utf8))
        exit(2)
    }
    return v
}
let intake = setting("INTAKE_URL"), buyerToken = setting("BUYER_TOKEN"), reviewerToken = setting("REVIEWER_TOKEN")
let buyerId = setting("BUYER_ID")

final class Box: @unchecked Sendable { var data = Data(); var status = 0 }

func http(_ method: String, _ path: String, token: String, body: [String: Any]? = nil) -> (Int, [String: Any]) {
    var r = URLRequest(url: URL(string: intake + path)!)
    r.httpMethod = method
    r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    r.setValue(UUID().uuidString, forHTTPHeaderField: "Idempotency-Key")
    if let body { r.httpBody = try! JSONSerialization.data(withJSONObject: body) }
    let box = Box(), done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: r) { d, resp, _ in
        box.data = d ?? Data()
        box.status = (resp as? HTTPURLResponse)?.statusCode ?? 0
        done.signal()
    }.resume()
    done.wait()
    return (box.status, (try? JSONSerialization.jsonObject(with: box.data)) as? [String: Any] ?? [:])
}

func placeOrder(_ id: String, paidFen: Int64) throws {
    let money = try Money(minorUnits: paidFen)
    let facts = OrderFacts(orderId: id, buyerId: buyerId, paymentChannel: .alipay, placedAt: Date(), paidAt: Date(),
                           promisedDeliveryAt: Date().addingTimeInterval(-600),
                           lines: [OrderLineFacts(lineId: "1", productKind: .cardCode, supplierId: "demo-supplier",
                                                  listPrice: money, paid: money)])
    let e = Envelope(type: Topology.Key.orderPlaced, correlationId: id, payload: OrderEvent(orderId: id, order: facts))
    let c = try AMQPConnection(url: try AMQPURL(parsing: setting("AMQP_URL")))
    defer { c.close() }
    try c.enableConfirms()
    let seq = try c.publish(OutgoingMessage(exchange: Topology.eventsExchange, routingKey: Topology.Key.orderPlaced,
                                            messageId: e.id.description, type: e.type, correlationId: id,
                                            body: [UInt8](try MessageCoding.encoder().encode(e))))
    guard try c.waitForConfirms()[seq] == .confirmed else { throw AMQPError(.connection, "order event not confirmed") }
}

func apply(_ orderId: String) -> String {
    for _ in 0..<100 {
        let (status, body) = http("POST", "/v1/refunds", token: buyerToken,
                                  body: ["orderId": orderId, "lineId": "1", "reason": "not_delivered"])
        if status == 201, let id = body["id"] as? String { return id }
        usleep(100_000)  // the order event may still be on its way to intake
    }
    fatalError("intake never accepted the application for \(orderId)")
}

func wait(_ id: String, for state: String) -> [String: Any] {
    var last: [String: Any] = [:]
    for _ in 0..<200 {
        last = http("GET", "/v1/refunds/\(id)", token: buyerToken).1
        if last["state"] as? String == state { break }
        usleep(100_000)
    }
    return last
}

func show(_ title: String, _ refund: [String: Any]) {
    let amount = (refund["amount"] as? [String: Any])?["minorUnits"] as? Int
    print("\n\(title): refund \(refund["id"] ?? "?") is \(refund["state"] ?? "?")"
        + (amount.map { String(format: " (¥%d.%02d)", $0 / 100, $0 % 100) } ?? ""))
    for step in refund["timeline"] as? [[String: Any]] ?? [] {
        let rule = (step["rule"] as? String).map { " [\($0)]" } ?? ""
        let why = (step["explanation"] as? String).map { " — \($0)" } ?? ""
        let next = (step["expectedNextBy"] as? String).map { " (next by \($0))" } ?? ""
        print("  \(step["at"] ?? "")  \((step["step"] as? String ?? "").padding(toLength: 16, withPad: " ", startingAt: 0))"
            + " by \(step["actor"] ?? "")\(rule)\(why)\(next)")
    }
}

let stamp = Int(Date().timeIntervalSince1970)
let fastOrder = "demo-fast-\(stamp)", bigOrder = "demo-big-\(stamp)"
do {
    try placeOrder(fastOrder, paidFen: 4_990)
    try placeOrder(bigOrder, paidFen: 1_200_000)
} catch {
    print("refund-demo: cannot publish order events: \(error)")
    exit(1)
}
let fast = apply(fastOrder)
show("Fast refund (undelivered card code, ¥49.90)", wait(fast, for: "approved"))
let big = apply(bigOrder)
_ = wait(big, for: "manual_review")
let (status, _) = http("POST", "/v1/review/\(big)/decision", token: reviewerToken, body: ["decision": "approve"])
if status != 202 { print("reviewer decision refused: \(status)") }
show("High amount (¥12,000) decided by a reviewer", wait(big, for: "approved"))
