import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import RefundModel
import StageRuntime
import Testing

/// What must hold after a chaos run, each invariant with the violations found (empty: it held). Money is compared
/// fen for fen between three records kept by different parties: the payment channel's own ledger (the sandbox),
/// payout's payouts and balance ledger, and what intake shows the buyer as credited.
struct ChaosInvariants {
    private(set) var results: [(String, [String])] = []
    private let faults: ChaosFaults
    private var loadFaults: [String: Int] = [:]

    init(run: String, fleet: Fleet, faults: ChaosFaults, channelPort: Int, notifyPort: Int, driverStatus: Int32,
         driverProblems: String) throws {
        self.faults = faults
        // 1. refund-load's own checks: every refund final as its buyer sees it, every timeline in order, no order
        //    paid twice by the channel.
        let problems = driverProblems.split(separator: "\n").filter { $0.contains("problem:") || $0.contains("refused") }
            .map(String.init)
        results.append(("every refund final, timelines in order (the buyers' view)",
                        driverStatus == 0 ? problems : problems + ["refund-load exited \(driverStatus)"]))
        results.append(("paid at most once: channel ledger = payouts = balance ledger = credited, fen for fen",
                        try Self.money(run: run, channelPort: channelPort)))
        results.append(("one notification per step and medium", try Self.notifications(run: run)))
        let deadLetters = try Self.deadLetters(faults: faults)
        results.append(("dead letters only for the injected poison (and every poison dead-lettered)", deadLetters.0))
        results.append(("no unmasked phone or e-mail in any log or dead letter",
                        Self.personalData(fleet: fleet, deadLetters: deadLetters.1)))
        results.append(("every SIGTERM drained and exited 0", faults.badExits))
        // What the sandboxes' own records say fired (a fault asked for but never fired proves nothing).
        let fired = Self.get("http://127.0.0.1:\(channelPort)/faults")["faults"] as? [String: [String]] ?? [:]
        for (kind, orders) in fired { loadFaults["channel: \(kind)"] = orders.filter { $0.hasPrefix(run) }.count }
        loadFaults["supplier: garbage answers dead-lettered"] = deadLetters.2
    }

    // MARK: the invariants

    static func money(run: String, channelPort: Int) throws -> [String] {
        var channel: [String: [Int64]] = [:]
        for p in get("http://127.0.0.1:\(channelPort)/ledger")["payments"] as? [[String: Any]] ?? [] {
            guard let order = p["orderId"] as? String, order.hasPrefix(run) else { continue }
            channel[order, default: []].append((p["amountFen"] as? NSNumber)?.int64Value ?? -1)
        }
        let db = try TestStack.database()
        defer { db.close() }
        let pattern = run + "-%"
        var byRoute: [String: [String: Int64]] = [:]
        for r in try db.query("""
            SELECT order_id, route, sum(amount_fen) AS fen FROM payout.payouts
            WHERE order_id LIKE $1 AND state = 'succeeded' GROUP BY 1, 2
            """, [pattern]) {
            byRoute[try r.string("order_id"), default: [:]][try r.string("route")] = try r.int64("fen")
        }
        var balance: [String: Int64] = [:]
        for r in try db.query("""
            SELECT p.order_id, sum(b.amount_fen) AS fen FROM payout.balance_ledger b JOIN payout.payouts p USING (refund_id)
            WHERE p.order_id LIKE $1 GROUP BY 1
            """, [pattern]) { balance[try r.string("order_id")] = try r.int64("fen") }
        var credited: [String: Int64] = [:]
        for r in try db.query("""
            SELECT order_id, sum(amount_fen) AS fen FROM intake.refunds WHERE order_id LIKE $1 AND state = 'credited'
            GROUP BY 1
            """, [pattern]) { credited[try r.string("order_id")] = try r.int64("fen") }
        var violations: [String] = []
        for order in Set(channel.keys).union(byRoute.keys).union(balance.keys).union(credited.keys).sorted() {
            let paid = channel[order] ?? []
            if paid.count > 1 { violations.append("\(order): the channel paid \(paid.count) times") }
            let channelFen = paid.reduce(0, +), balanceFen = balance[order] ?? 0
            // A payout's route is the channel it pays through, or the platform balance.
            let onBalance = byRoute[order]?["balance"] ?? 0
            let original = (byRoute[order] ?? [:]).filter { $0.key != "balance" }.values.reduce(0, +)
            if channelFen != original { violations.append("\(order): channel \(channelFen) fen, payouts \(original)") }
            if balanceFen != onBalance { violations.append("\(order): balance ledger \(balanceFen), payouts \(onBalance)") }
            if (credited[order] ?? 0) != channelFen + balanceFen {
                violations.append("\(order): credited \(credited[order] ?? 0) fen, paid \(channelFen + balanceFen)")
            }
        }
        return violations
    }

    /// The buyer hears of each step once per medium: the same message twice in a row (a redelivery, a status
    /// event sent again, the supplier's answer after "asking the supplier") is a violation; a step that comes back
    /// later (processing again after a fallback) is news.
    static func notifications(run: String) throws -> [String] {
        let db = try TestStack.database()
        defer { db.close() }
        // In the order of the steps themselves (the timeline's time and progress of the event that caused each).
        let rows = try db.query("""
            SELECT d.refund_id::text AS refund, d.medium, d.step, d.title FROM notification.deliveries d
            JOIN intake.timeline t ON t.message_id = d.event_id
            WHERE d.buyer_id LIKE $1 ORDER BY d.refund_id, d.medium, t.at, t.progress
            """, [run + "-%"]).map { r in
            (key: "\(try r.string("refund")) by \(try r.string("medium"))",
             message: "\(try r.string("step")): \(try r.string("title"))")
        }
        var violations: [String] = []
        for (a, b) in zip(rows, rows.dropFirst()) where a.key == b.key && a.message == b.message {
            violations.append("\(a.key): \(a.message) twice")
        }
        return violations
    }

    /// Drains every stage's DLQ: each dead letter must be injected poison (on the queue it was put on) or a garbage
    /// answer from the supplier told to send garbage; each poison must be there. Returns the violations, the bodies
    /// (for the personal-data check) and how many supplier answers were dead-lettered.
    static func deadLetters(faults: ChaosFaults) throws -> ([String], [String], Int) {
        var found: [String: String] = [:], violations: [String] = [], bodies: [String] = [], garbage = 0
        _ = TestStack.eventually(90) {
            for service in ServiceName.allCases {
                let queue = Topology.queue(for: service).name
                for d in (try? TestStack.drain(Topology.deadLetterQueue(of: queue), quietMillis: 300)) ?? [] {
                    let body = String(decoding: d.body, as: UTF8.self)
                    bodies.append(body)
                    let id = d.messageId ?? "", from = d.headers["x-original-user-id"] ?? d.userId ?? ""
                    if faults.poison[id] == queue { found[id] = queue } else if from == "supplier.sup-garbage" {
                        garbage += 1
                    } else {
                        violations.append("\(queue).dlq: \(id) from \(from): \(d.headers[Topology.deadLetterReasonHeader] ?? "?")")
                    }
                }
            }
            return found.count == faults.poison.count
        }
        for (id, queue) in faults.poison where found[id] == nil { violations.append("poison \(id) on \(queue) not dead-lettered") }
        return (violations, bodies, garbage)
    }

    /// The load's buyers have phones 139xxxxxxxx and addresses at example.com, the poison carries both: none may
    /// appear whole in any instance's log or any dead letter.
    static func personalData(fleet: Fleet, deadLetters: [String]) -> [String] {
        let patterns = [#"(?<![0-9A-Za-z-])139[0-9]{8}(?![0-9A-Za-z])"#, #"[A-Za-z0-9]@example\.com"#]
        var violations: [String] = []
        let sources = fleet.instances.map { ($0.name + " log", ServiceProcesses.read($0.log)) }
            + deadLetters.enumerated().map { ("dead letter \($0.offset)", $0.element) }
        for (name, text) in sources {
            for p in patterns {
                if let r = text.range(of: p, options: .regularExpression) {
                    violations.append("\(name): \(text[r])")
                }
            }
        }
        return violations
    }

    static func get(_ url: String) -> [String: Any] {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 10
        guard case .answered(_, let body) = BlockingHTTP.exchange(request, timeout: 10).0 else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    // MARK: the table

    func table(figures: [String: Any], seconds: Double) -> String {
        var lines = ["chaos: \(figures["refunds"] ?? "?") refunds \(figures["kinds"] ?? ""), "
                     + "\(Int(seconds)) s, final states \(figures["states"] ?? "?")"]
        lines.append("| fault injected | count |")
        lines.append("|---|---|")
        for kind in ChaosFaults.Kind.allCases { lines.append("| \(kind.rawValue) | \(faults.injected[kind] ?? 0) |") }
        let asked = figures["faultsAsked"] as? [String: Int] ?? [:]
        if let replayed = asked["replayed-order"] { lines.append("| marketplace: order.placed sent again (same and new id) | \(replayed) |") }
        for (kind, n) in loadFaults.sorted(by: { $0.key < $1.key }) { lines.append("| \(kind) (fired) | \(n) |") }
        lines.append("| invariant | violations |")
        lines.append("|---|---|")
        for (name, violations) in results { lines.append("| \(name) | \(violations.count) |") }
        return lines.joined(separator: "\n")
    }
}
