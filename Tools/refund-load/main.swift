import AMQP
import ChannelSigning
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import RefundModel
import StageRuntime

/// A burst of refunds of mixed kinds driven through a running platform as a marketplace and its buyers would
/// (order events over AMQP, applications over the HTTP API), then checked: every refund reached a final state, no
/// order was paid twice in the payment channel's own ledger, every timeline reads in order. Prints one JSON line of
/// figures and exits 1 when an invariant is broken. The scale-out, chaos and container tests run it; so can you.
///
/// Settings (environment):
///   AMQP_URL           the marketplace's AMQP user (its order events are the only ones that count)
///   INTAKE_URL         intake's API; several, comma-separated, are used in turn (one per instance, no balancer)
///   CHANNEL_URL  the payment sandbox (its /ledger is the truth on money)
///   LOAD_JWT_SECRET    intake's JWT_HS256_SECRET: each refund gets a buyer of its own, with a token minted here
///   LOAD_COUNT         refunds (default 200);  LOAD_CONCURRENCY  parallel applications (default 16, each on a
///                      thread of its own)
///   LOAD_RATE          applications offered per second, evenly spaced (default 0: as fast as the workers go); the
///                      latencies then say what a buyer waits at that rate, not in a queue of the driver's making
///   LOAD_MIX           kinds and weights (default fast=2,supplier=1,bank=1): fast = an undelivered ¥30 card code
///                      (fast refund, Alipay), wechat = the same paid by WeChat Pay, supplier = a delivered ¥100 code
///                      its supplier is asked about, bank = an undelivered ¥30 code paid by bank card (PROCESSING,
///                      then the channel's callback), closed = the same to a closed card (ABNORMAL: the buyer
///                      chooses the platform balance, and is paid there)
///   LOAD_SUPPLIER      the suppliers asked, in turn (default sup-confirm; comma-separated, repeat one to weigh it)
///   LOAD_WAIT_SECONDS  how long refunds may take to be final (default 300)
///   LOAD_FAULTS        1: the outside world misbehaves for some refunds: order ids that make the payment sandbox
///                      fail a first call (flaky), answer after the caller's timeout (slow) or call back twice
///                      (dup-callback), and order events the marketplace sends again (same id, and a new id)
///   LOAD_PROGRESS_FILE a file that gets the line "orders published" once the order events are confirmed
///   LOAD_RUN           a name for this run's order ids (default: the time)
///   LOAD_PROFILES      sms (default), sms+email or none: the buyer profiles published first (how notification
///                      reaches each buyer; SMS to a test number, e-mail to an address at example.com)
///   LOAD_PROGRESS      1: a line `progress applied=A paid=P of=N` on stderr twice a second (`refundctl bench`
///                      draws its bar from it)
///   NOTIFY_URL         the notify sandbox (SMS and e-mail gateways); when set, the run also waits for each buyer's
///                      last message and reports POST → notified and notified/s from the gateway's own receipt times
///   LOAD_ORDERS_FIRST  1: wait until intake knows the last order before the first application, as in a
///                      marketplace where orders come long before refunds (the benchmark measures refunds, not
///                      order ingestion); default 0: applications race their order events (retried on 404)
let env = ProcessInfo.processInfo.environment
func setting(_ name: String, _ fallback: String? = nil) -> String {
    if let v = env[name], !v.isEmpty { return v }
    if let fallback { return fallback }
    FileHandle.standardError.write(Data("refund-load: \(name) is required\n".utf8))
    exit(2)
}
func say(_ line: String) { FileHandle.standardError.write(Data("refund-load: \(line)\n".utf8)) }

let intakes = setting("INTAKE_URL").split(separator: ",").map(String.init)
/// The n-th try for refund `p` goes to the next instance: one that is down (killed by a test) costs one retry.
func intake(_ n: Int, _ attempt: Int) -> String { intakes[(n + attempt) % intakes.count] }
let channelURL = setting("CHANNEL_URL"), secret = setting("LOAD_JWT_SECRET")
let count = Int(setting("LOAD_COUNT", "200")) ?? 200
let concurrency = Int(setting("LOAD_CONCURRENCY", "16")) ?? 16
let waitSeconds = Double(setting("LOAD_WAIT_SECONDS", "300")) ?? 300
let run = setting("LOAD_RUN", "load-\(Int(Date().timeIntervalSince1970))")
let suppliers = setting("LOAD_SUPPLIER", "sup-confirm").split(separator: ",").map(String.init)
let faults = setting("LOAD_FAULTS", "0") == "1"
let offeredRate = Double(setting("LOAD_RATE", "0")) ?? 0

/// `body(worker)` for every worker on a thread of its own, until all return. Not `concurrentPerform`: it runs only
/// as many iterations at once as there are cores, and these block on the network (two in flight on two cores, what
/// ever LOAD_CONCURRENCY said).
func onWorkers(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let all = DispatchGroup()
    for worker in 0..<n {
        all.enter()
        let thread = Thread { body(worker); all.leave() }
        thread.stackSize = 1 << 20
        thread.start()
    }
    all.wait()
}

enum Kind: String, CaseIterable { case fast, wechat, supplier, bank, closed }
let mix: [Kind] = setting("LOAD_MIX", "fast=2,supplier=1,bank=1").split(separator: ",").flatMap { part -> [Kind] in
    let kv = part.split(separator: "=")
    guard let kind = Kind(rawValue: String(kv[0])) else { say("unknown kind \(kv[0])"); exit(2) }
    return Array(repeating: kind, count: kv.count > 1 ? Int(kv[1]) ?? 1 : 1)
}

struct Planned {
    let n: Int
    let kind: Kind
    /// The payment sandbox reads faults from the order id (see its header): some refunds get one when asked for.
    var fault: String? {
        guard faults else { return nil }
        switch kind {
        case .fast, .wechat: return [1: "flaky", 4: "slow"][n % 9]
        case .bank: return n % 3 == 0 ? "dup-callback" : nil
        case .supplier, .closed: return nil
        }
    }
    var orderId: String {
        kind == .closed ? "\(run)-closed-card-\(n)" : "\(run)-\(kind.rawValue)-\(n)" + (fault.map { "-\($0)" } ?? "")
    }
    var buyer: String { "\(run)-buyer-\(n)" }
    var supplier: String { suppliers[(n / mix.count) % suppliers.count] }
    /// The marketplace sends this order's events again (a retry on its side, a replay).
    var replayed: Bool { faults && n % 10 == 7 }
}
let planned = (0..<count).map { Planned(n: $0, kind: mix[$0 % mix.count]) }

/// An HS256 token for one buyer, valid for an hour (what a marketplace's identity provider would issue).
func token(for buyer: String) -> String {
    let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let exp = Int(Date().timeIntervalSince1970) + 3600
    let claims = Base64URL.encode(Array(#"{"sub":"\#(buyer)","role":"buyer","exp":\#(exp)}"#.utf8))
    let signature = Digests.hmacSHA256(key: Array(secret.utf8), message: Array("\(header).\(claims)".utf8))
    return "\(header).\(claims).\(Base64URL.encode(signature))"
}

func http(_ method: String, _ url: String, token: String? = nil, body: [String: Any]? = nil,
          idempotencyKey: String? = nil) -> (Int, [String: Any]) {
    var r = URLRequest(url: URL(string: url)!)
    r.httpMethod = method
    if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    if let body {
        r.httpBody = try! JSONSerialization.data(withJSONObject: body)
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue(idempotencyKey ?? UUID().uuidString, forHTTPHeaderField: "Idempotency-Key")
    }
    guard case .answered(let status, let data) = BlockingHTTP.send(r, timeout: 30) else { return (0, [:]) }
    return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
}

// 1. The marketplace's order events, over one connection with publisher confirms.
func order(_ p: Planned) throws -> OrderFacts {
    let delivered = p.kind == .supplier
    let paid = try Money(minorUnits: p.kind == .supplier ? 10_000 : 3_000)
    let channel: PaymentChannel = switch p.kind {
    case .bank, .closed: .bankCard
    case .wechat: .wechat
    case .fast, .supplier: .alipay
    }
    return OrderFacts(orderId: p.orderId, buyerId: p.buyer, paymentChannel: channel,
                      placedAt: Date(), paidAt: Date(), promisedDeliveryAt: Date().addingTimeInterval(-600),
                      lines: [OrderLineFacts(lineId: "1", productKind: .cardCode, supplierId: p.supplier,
                                             listPrice: paid, paid: paid,
                                             deliveredAt: delivered ? Date().addingTimeInterval(-300) : nil)])
}
/// What the buyer of `p` applies with.
func applicationBody(_ p: Planned) -> [String: Any] {
    p.kind == .supplier
        ? ["orderId": p.orderId, "lineId": "1", "reason": "invalid_code",
           "evidence": [["kind": "order_number", "reference": "load"],
                        ["kind": "activation_failure_log", "reference": "load"]]]
        : ["orderId": p.orderId, "lineId": "1", "reason": "not_delivered"]
}
/// One key for every try, as a careful client does: a try whose answer was lost is answered again, not applied twice.
func applicationKey(_ p: Planned) -> String { "\(run)-apply-\(p.n)" }
/// The phone and e-mail address `p`'s buyer profile gives (one buyer per refund: their messages are the refund's).
/// (Ending in 1: the sandbox refuses numbers ending in 0000 as invalid, which it must not do to a benchmark's buyer.)
func phone(_ p: Planned) -> String { String(format: "139%07d1", p.n % 10_000_000) }
func email(_ p: Planned) -> String { "\(p.buyer)@example.com" }
/// A server's time (a timeline step's, a gateway's receipt), ISO 8601 to the millisecond.
func serverTime(_ text: String?) -> Date? {
    text.flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) }
}
func time(_ step: [String: Any]) -> Date? { serverTime(step["at"] as? String) }
let started = Date()
do {
    let url = try AMQPURL(parsing: setting("AMQP_URL"))
    let c = try AMQPConnection(url: url)
    try c.enableConfirms()
    let profiles = setting("LOAD_PROFILES", "sms")
    for chunk in stride(from: 0, to: planned.count, by: 200) {
        var seqs: [UInt64] = []
        for p in planned[chunk..<min(chunk + 200, planned.count)] where profiles != "none" {
            let profile = Envelope(type: Topology.Key.buyerProfile, correlationId: p.buyer, payload: BuyerProfile(
                buyerId: p.buyer, phone: phone(p),
                email: profiles.contains("email") ? email(p) : nil, locale: .zh, updatedAt: Date()))
            seqs.append(try c.publish(OutgoingMessage(
                exchange: Topology.eventsExchange, routingKey: profile.type, messageId: profile.id.description,
                type: profile.type, correlationId: p.buyer, userId: url.user,
                body: [UInt8](try MessageCoding.encoder().encode(profile)))))
        }
        for p in planned[chunk..<min(chunk + 200, planned.count)] {
            let e = Envelope(type: Topology.Key.orderPlaced, correlationId: p.orderId,
                             payload: OrderEvent(orderId: p.orderId, order: try order(p)))
            // A replayed order: the same message again, then the same facts under a new message id.
            let copies = p.replayed ? [e, e, Envelope(type: e.type, correlationId: p.orderId, payload: e.payload)] : [e]
            for copy in copies {
                seqs.append(try c.publish(OutgoingMessage(
                    exchange: Topology.eventsExchange, routingKey: copy.type, messageId: copy.id.description,
                    type: copy.type, correlationId: p.orderId, userId: url.user,
                    body: [UInt8](try MessageCoding.encoder().encode(copy)))))
            }
        }
        let confirms = try c.waitForConfirms(timeoutMillis: 30_000)
        guard seqs.allSatisfy({ confirms[$0] == .confirmed }) else { say("order events not confirmed"); exit(1) }
    }
    c.close()
} catch {
    say("cannot publish order events: \(error)")
    exit(1)
}
if let progress = env["LOAD_PROGRESS_FILE"], !progress.isEmpty {
    try? "orders published\n".write(toFile: progress, atomically: true, encoding: .utf8)
}

// Orders first: intake takes order events in the order they were published (per instance), so once the last one is
// known the others almost all are; a straggler's application is retried like any other.
var ordersKnownAfter: Double? = nil
/// The last order's application, applied before the others when orders come first: its answer is its worker's
/// (written once, before the workers start).
nonisolated(unsafe) var firstApplied: (Int, [String: Any])? = nil
if setting("LOAD_ORDERS_FIRST", "0") == "1", let last = planned.last {
    // Intake knows an order when an application for it is taken: the last order's application goes first, retried
    // while its order is unknown (404). Its idempotency key is the one its worker uses, which is answered again.
    let until = Date().addingTimeInterval(waitSeconds)
    repeat {
        firstApplied = http("POST", intake(last.n, 0) + "/v1/refunds", token: token(for: last.buyer),
                            body: applicationBody(last), idempotencyKey: applicationKey(last))
        if firstApplied?.0 != 404 { break }
        usleep(250_000)  // a buyer may write 60 times a minute: the probe stays well inside that budget
    } while Date() < until
    ordersKnownAfter = Date().timeIntervalSince(started)
}
let applying = Date()

// 2. The buyers' applications, `LOAD_CONCURRENCY` at a time (an order event may still be on its way: retry).
final class Results: @unchecked Sendable {
    let lock = NSLock()
    var refundIds: [Int: String] = [:]
    var refused: [String] = []
    var states: [Int: String] = [:]
    var timelines: [Int: [[String: Any]]] = [:]
    func state(_ n: Int) -> String? { lock.withLock { states[n] } }
}
let results = Results()
/// Paid so far in the channel's ledger, as the wait below last saw it (for the progress lines).
nonisolated(unsafe) var paidSeen = 0
if setting("LOAD_PROGRESS", "0") == "1" {
    Thread.detachNewThread {
        while true {
            let applied = results.lock.withLock { results.refundIds.count }
            FileHandle.standardError.write(Data("progress applied=\(applied) paid=\(paidSeen) of=\(count)\n".utf8))
            usleep(500_000)
        }
    }
}
let applyStart = Date()
onWorkers(concurrency) { worker in
    for p in planned where p.n % concurrency == worker {
        // At a fixed rate the n-th application is due n/rate seconds after the start.
        if offeredRate > 0 {
            let wait = applyStart.addingTimeInterval(Double(p.n) / offeredRate).timeIntervalSinceNow
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
        let body = applicationBody(p)
        var last = (0, [String: Any]())
        let key = applicationKey(p)
        // The probed application was taken already: its answer is this worker's (asking again only spends the
        // buyer's write budget).
        if p.n == planned.last?.n, let first = firstApplied, first.0 == 201 { last = first }
        for attempt in 0..<300 where last.0 != 201 {
            last = http("POST", intake(p.n, attempt) + "/v1/refunds", token: token(for: p.buyer), body: body,
                        idempotencyKey: key)
            if last.0 == 201 || !(last.0 == 404 || last.0 == 409 || last.0 == 429 || last.0 == 0 || last.0 >= 500) {
                break
            }
            usleep(last.0 == 429 ? 1_000_000 : 200_000)  // intake's Retry-After is in whole seconds
        }
        results.lock.withLock {
            if last.0 == 201, let id = last.1["id"] as? String { results.refundIds[p.n] = id } else {
                results.refused.append("\(p.orderId): \(last.0) \(last.1["error"] ?? "")")
            }
        }
    }
}
let applied = Date()
if !results.refused.isEmpty { say("applications refused: \(results.refused.prefix(5))") }

// 3. Wait until every refund is final (as its buyer sees it). Asking intake about every open refund is itself load
// (one transaction per GET), so while money is still moving only the channel's ledger is watched (one request a
// second), with a full round of the buyers' views every 15 s; then rounds until all are final. The latencies come
// from the timelines' own times, so how often we look does not change them.
let finalStates = Set(RefundState.terminal.map(\.rawValue))
func paidCount() -> Int {
    (http("GET", channelURL + "/ledger").1["payments"] as? [[String: Any]] ?? [])
        .filter { ($0["orderId"] as? String)?.hasPrefix(run + "-") ?? false }.count
}
func lookRound() -> Int {
    let open = planned.filter {
        results.refundIds[$0.n] != nil && !finalStates.contains(results.state($0.n) ?? "")
    }
    onWorkers(concurrency) { worker in
        for p in open where p.n % concurrency == worker {
            let (status, refund) = http("GET", intake(p.n, Int(Date().timeIntervalSince1970)) + "/v1/refunds/\(results.refundIds[p.n]!)",
                                        token: token(for: p.buyer))
            guard status == 200, let state = refund["state"] as? String else { continue }
            results.lock.withLock {
                results.states[p.n] = state
                results.timelines[p.n] = refund["timeline"] as? [[String: Any]] ?? []
            }
            act(p, state)
        }
    }
    return planned.filter {
        results.refundIds[$0.n] != nil && !finalStates.contains(results.state($0.n) ?? "")
    }.count
}
/// What the buyer does when the refund waits for them: after the original route failed (a closed card), choose the
/// platform balance. One key per refund: asking again is answered again, never applied twice.
func act(_ p: Planned, _ state: String) {
    guard state == "payout_failed", let id = results.lock.withLock({ results.refundIds[p.n] }) else { return }
    _ = http("POST", intake(p.n, 0) + "/v1/refunds/\(id)/fallback", token: token(for: p.buyer),
             body: ["route": "balance"], idempotencyKey: "\(run)-fallback-\(p.n)")
}
let deadline = Date().addingTimeInterval(waitSeconds)
// A round of the buyers' views only when the ledger stops moving for 15 s (something is not being paid: a
// rejection, a stuck refund), so the looking does not load the system it measures.
var lastProgress = Date(), lastPaid = -1
while Date() < deadline {
    let paid = paidCount()
    paidSeen = paid
    // Refunds to a closed card are paid on the balance, never in the channel's ledger.
    if paid >= results.refundIds.filter({ planned[$0.key].kind != .closed }).count { break }
    if paid != lastPaid { lastPaid = paid; lastProgress = Date() }
    if Date().timeIntervalSince(lastProgress) > 15 {
        lastProgress = Date()
        if lookRound() == 0 { break }
    }
    sleep(1)
}
// Then each open refund is asked until it is final, one after another per worker: intake projects them roughly in
// the order they were paid, so by the time a worker reaches the next one it is mostly final already (about one GET
// per refund, where rounds over every open refund would ask a lagging intake thousands of times a second).
onWorkers(concurrency) { worker in
    for p in planned where p.n % concurrency == worker && results.refundIds[p.n] != nil {
        while Date() < deadline, !finalStates.contains(results.state(p.n) ?? "") {
            let (status, refund) = http("GET", intake(p.n, Int(Date().timeIntervalSince1970)) + "/v1/refunds/\(results.refundIds[p.n]!)",
                                        token: token(for: p.buyer))
            if status == 200, let state = refund["state"] as? String {
                results.lock.withLock {
                    results.states[p.n] = state
                    results.timelines[p.n] = refund["timeline"] as? [[String: Any]] ?? []
                }
                if finalStates.contains(state) { break }
                act(p, state)
            }
            usleep(250_000)
        }
    }
}
let finished = Date()

// 3b. The buyers' messages as their gateways received them (NOTIFY_URL): the SMS of each final refund and, with
// e-mail on, its e-mails. A refund is notified when its buyer's gateway has a message from after its final step;
// the gateway's receipt time of its last message is "notified". One buyer per refund, so a buyer's messages are
// that refund's; the same text twice to one buyer is one step notified twice.
let notifyURL = env["NOTIFY_URL"].flatMap { $0.isEmpty ? nil : $0 }
let mediaWatched = setting("LOAD_PROFILES", "sms") == "none" ? [] : setting("LOAD_PROFILES", "sms").contains("email")
    ? ["sms", "mail"] : ["sms"]
/// Receipt times and texts by medium and address, as the sandbox last reported them.
func gatewayMessages() -> [String: [String: [(at: Date, text: String)]]] {
    var byMedium: [String: [String: [(at: Date, text: String)]]] = [:]
    for medium in mediaWatched {
        let messages = http("GET", notifyURL! + "/" + medium).1["messages"] as? [[String: Any]] ?? []
        var byAddress: [String: [(at: Date, text: String)]] = [:]
        for m in messages {
            let address = medium == "sms" ? m["phone"] as? String : (m["to"] as? [String])?.first
            guard let address, let at = serverTime(m["at"] as? String) else { continue }
            let text = medium == "sms" ? m["text"] as? String ?? "" : m["subject"] as? String ?? ""
            byAddress[address, default: []].append((at, text))
        }
        byMedium[medium] = byAddress
    }
    return byMedium
}
func address(_ p: Planned, _ medium: String) -> String { medium == "sms" ? phone(p) : email(p) }
func finalStepTime(_ n: Int) -> Date? {
    results.timelines[n]?.last.flatMap(time)
}
var gateway: [String: [String: [(at: Date, text: String)]]] = [:]
var notifiedAt: [Int: Date] = [:]
if notifyURL != nil, !mediaWatched.isEmpty {
    while true {
        gateway = gatewayMessages()
        notifiedAt = [:]
        var waiting = 0
        for p in planned where results.refundIds[p.n] != nil {
            guard let final = finalStepTime(p.n) else { continue }
            let lasts = mediaWatched.map { gateway[$0]?[address(p, $0)]?.map(\.at).max() }
            if lasts.contains(where: { $0 == nil || $0! < final }) { waiting += 1; continue }
            notifiedAt[p.n] = lasts.compactMap { $0 }.max()
        }
        if waiting == 0 || Date() >= deadline { break }
        sleep(1)
    }
}

// 4. The invariants, from the channel's ledger and the buyers' timelines.
let ledger = http("GET", channelURL + "/ledger").1["payments"] as? [[String: Any]] ?? []
var paidByOrder: [String: Int] = [:]
for entry in ledger { if let o = entry["orderId"] as? String, o.hasPrefix(run + "-") { paidByOrder[o, default: 0] += 1 } }
var problems: [String] = results.refused
for p in planned {
    guard results.refundIds[p.n] != nil else { continue }
    let state = results.states[p.n] ?? "unknown"
    if !finalStates.contains(state) { problems.append("\(p.orderId) not final: \(state)") }
    let payments = paidByOrder[p.orderId] ?? 0
    if payments > 1 { problems.append("\(p.orderId) paid \(payments) times") }
    // A closed card's refund is credited on the balance (payout's own ledger, checked by the chaos test): the
    // channel answered ABNORMAL and moved nothing.
    let expected = p.kind == .closed ? 0 : 1
    if state == "credited" && payments != expected {
        problems.append("\(p.orderId) credited but paid \(payments) times by the channel")
    }
    let times = (results.timelines[p.n] ?? []).compactMap { $0["at"] as? String }
    if times != times.sorted() { problems.append("\(p.orderId) timeline out of order") }
    guard notifyURL != nil, !mediaWatched.isEmpty, finalStepTime(p.n) != nil else { continue }
    if notifiedAt[p.n] == nil { problems.append("\(p.orderId) final but its buyer not notified of it") }
    for medium in mediaWatched {
        let texts = gateway[medium]?[address(p, medium)]?.map(\.text) ?? []
        if Set(texts).count != texts.count { problems.append("\(p.orderId): a step notified twice by \(medium)") }
    }
}
// Latency as the buyer's timeline tells it (server times, to the millisecond): the application's first step to
// `credited`; throughput: refunds credited per second between the first application and the last credit.
var latencies: [Double] = [], firstStep = Date.distantFuture, lastCredit = Date.distantPast
for (_, timeline) in results.timelines {
    guard let start = timeline.first.flatMap(time),
          let credited = timeline.last(where: { $0["step"] as? String == "credited" }).flatMap(time) else { continue }
    latencies.append(credited.timeIntervalSince(start) * 1000)
    firstStep = min(firstStep, start)
    lastCredit = max(lastCredit, credited)
}
latencies.sort()
// POST → notified: the application's first step to the gateway's receipt of the buyer's last message.
var notifiedLatencies: [Double] = [], lastNotified = Date.distantPast
for (n, at) in notifiedAt {
    guard let start = results.timelines[n]?.first.flatMap(time) else { continue }
    notifiedLatencies.append(at.timeIntervalSince(start) * 1000)
    lastNotified = max(lastNotified, at)
}
notifiedLatencies.sort()
func percentile(_ sorted: [Double], _ p: Double) -> Int {
    sorted.isEmpty ? 0 : Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))].rounded())
}
let creditedPerSecond = latencies.count > 1 && lastCredit > firstStep
    ? (Double(latencies.count) / lastCredit.timeIntervalSince(firstStep) * 10).rounded() / 10 : 0
let notifiedPerSecond = notifiedLatencies.count > 1 && lastNotified > firstStep
    ? (Double(notifiedLatencies.count) / lastNotified.timeIntervalSince(firstStep) * 10).rounded() / 10 : 0
var byState: [String: Int] = [:]
for s in results.states.values { byState[s, default: 0] += 1 }
var asked: [String: Int] = [:]
for p in planned {
    if let f = p.fault { asked[f, default: 0] += 1 }
    if p.replayed { asked["replayed-order", default: 0] += 1 }
}
var byKind: [String: Int] = [:]
for p in planned { byKind[p.kind.rawValue, default: 0] += 1 }
let figures: [String: Any] = [
    "run": run, "refunds": count, "applied": results.refundIds.count, "states": byState, "kinds": byKind,
    "faultsAsked": asked,
    "paidOrders": paidByOrder.count, "problems": problems.count,
    "secondsToKnowOrders": ordersKnownAfter.map { ($0 * 10).rounded() / 10 } ?? NSNull(),
    "secondsToApply": (applied.timeIntervalSince(applying) * 10).rounded() / 10,
    "secondsToFinal": (finished.timeIntervalSince(started) * 10).rounded() / 10,
    "creditedPerSecond": creditedPerSecond, "latencyP50Ms": percentile(latencies, 0.5),
    "latencyP95Ms": percentile(latencies, 0.95), "latencyP99Ms": percentile(latencies, 0.99),
    "notified": notifiedLatencies.count, "notifiedPerSecond": notifiedPerSecond,
    "notifiedP50Ms": percentile(notifiedLatencies, 0.5), "notifiedP95Ms": percentile(notifiedLatencies, 0.95),
    "notifiedP99Ms": percentile(notifiedLatencies, 0.99),
]
print(String(decoding: try! JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys]), as: UTF8.self))
for p in problems.prefix(20) { say("problem: \(p)") }
exit(problems.isEmpty ? 0 : 1)
