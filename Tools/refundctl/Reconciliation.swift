import Foundation
import Postgres

/// What payout recorded, read from its schema for `refundctl reconcile`.
struct PayoutRecords {
    struct Payout {
        var refundId: String
        var requestNo: String
        var route: String
        var state: String
        var fen: Int64
    }

    struct Superseded {
        var refundId: String
        var requestNo: String
        var paidInstead: String
        var fen: Int64
    }

    /// Payouts created since the statement's start, plus any payout whatever its age whose number the statement
    /// names (a payment of an older payout is not unknown).
    var payouts: [Payout]
    var superseded: [Superseded]
    /// Refunds credited to the platform balance since the start: refund id → fen.
    var balanceCredits: [String: Int64]
    /// Incidents payout recorded since the start (possible double payments).
    var incidents: [(refundId: String, requestNo: String, kind: String)]

    static func load(since: Date, ledgerNumbers: [String], on db: PostgresConnection) throws -> PayoutRecords {
        let numbers = PostgresArray.text(ledgerNumbers)
        let payouts = try db.query("""
            SELECT refund_id::text AS refund_id, request_no::text AS request_no, route, state, amount_fen
            FROM payout.payouts WHERE created_at >= $1::timestamptz OR request_no::text = ANY($2::text[])
            """, [since, numbers]).map {
            Payout(refundId: try $0.string("refund_id"), requestNo: try $0.string("request_no"),
                   route: try $0.string("route"), state: try $0.string("state"), fen: try $0.int64("amount_fen"))
        }
        let superseded = try db.query("""
            SELECT refund_id::text AS refund_id, request_no::text AS request_no, paid_instead, amount_fen
            FROM payout.superseded_requests WHERE superseded_at >= $1::timestamptz OR request_no::text = ANY($2::text[])
            """, [since, numbers]).map {
            Superseded(refundId: try $0.string("refund_id"), requestNo: try $0.string("request_no"),
                       paidInstead: try $0.string("paid_instead"), fen: try $0.int64("amount_fen"))
        }
        var credits: [String: Int64] = [:]
        for r in try db.query("""
            SELECT refund_id::text AS refund_id, amount_fen FROM payout.balance_ledger WHERE created_at >= $1::timestamptz
            """, [since]) {
            credits[try r.string("refund_id")] = try r.int64("amount_fen")
        }
        let incidents = try db.query("""
            SELECT refund_id::text AS refund_id, request_no::text AS request_no, kind FROM payout.incidents
            WHERE detected_at >= $1::timestamptz ORDER BY detected_at
            """, [since]).map { (try $0.string("refund_id"), try $0.string("request_no"), try $0.string("kind")) }
        return PayoutRecords(payouts: payouts, superseded: superseded, balanceCredits: credits, incidents: incidents)
    }
}

/// The comparison itself, with no I/O: every payment the channel made matched to what payout asked for, every
/// payout payout recorded as paid matched to a payment or a balance credit.
enum Reconciliation {
    struct Payment {
        var requestNo: String
        var orderId: String
        var channel: String
        var fen: Int64
    }

    struct Difference: Encodable {
        /// `unknown_payment`, `possible_double_payment`, `amount_mismatch`, `channel_mismatch`, `paid_twice`,
        /// `missing_payment`, `balance_without_payout`, `open_incident`.
        var kind: String
        var refundId: String?
        var requestNo: String?
        var channel: String?
        var fen: Int64?
        var detail: String
    }

    struct Report: Encodable {
        var payouts: Int
        var ledgerPayments: Int
        var balanceCredits: Int
        var differences: [Difference]
    }

    static func compare(payments: [Payment], records: PayoutRecords) -> Report {
        var out: [Difference] = []
        let payouts = Dictionary(records.payouts.map { ($0.requestNo, $0) }) { a, _ in a }
        let superseded = Dictionary(records.superseded.map { ($0.requestNo, $0) }) { a, _ in a }
        var paid: [String: Int] = [:]
        for p in payments {
            paid[p.requestNo, default: 0] += 1
            if paid[p.requestNo] == 2 {
                out.append(Difference(kind: "paid_twice", refundId: payouts[p.requestNo]?.refundId,
                                      requestNo: p.requestNo, channel: p.channel, fen: p.fen,
                                      detail: "the channel paid this request number more than once"))
            }
            if let s = superseded[p.requestNo] {
                out.append(Difference(kind: "possible_double_payment", refundId: s.refundId, requestNo: p.requestNo,
                                      channel: p.channel, fen: p.fen,
                                      detail: "paid under a superseded request number; the refund was paid by \(s.paidInstead)"))
            } else if let o = payouts[p.requestNo] {
                if o.fen != p.fen {
                    out.append(Difference(kind: "amount_mismatch", refundId: o.refundId, requestNo: p.requestNo,
                                          channel: p.channel, fen: p.fen, detail: "payout asked for \(o.fen) fen"))
                }
                if o.route != p.channel {
                    out.append(Difference(kind: "channel_mismatch", refundId: o.refundId, requestNo: p.requestNo,
                                          channel: p.channel, fen: p.fen, detail: "payout called \(o.route)"))
                }
            } else {
                out.append(Difference(kind: "unknown_payment", refundId: nil, requestNo: p.requestNo,
                                      channel: p.channel, fen: p.fen,
                                      detail: "order \(p.orderId): no payout has this request number"))
            }
        }
        for o in records.payouts where o.state == "succeeded" {
            if o.route == "balance" {
                if records.balanceCredits[o.refundId] == nil {
                    out.append(Difference(kind: "missing_payment", refundId: o.refundId, requestNo: o.requestNo,
                                          channel: o.route, fen: o.fen, detail: "credited, but not in the balance ledger"))
                }
            } else if paid[o.requestNo] == nil {
                out.append(Difference(kind: "missing_payment", refundId: o.refundId, requestNo: o.requestNo,
                                      channel: o.route, fen: o.fen,
                                      detail: "payout recorded it paid; the channel's statement has no payment"))
            }
        }
        let balancePaid = Set(records.payouts.filter { $0.route == "balance" && $0.state == "succeeded" }.map(\.refundId))
        for (refund, fen) in records.balanceCredits.sorted(by: { $0.key < $1.key }) where !balancePaid.contains(refund) {
            out.append(Difference(kind: "balance_without_payout", refundId: refund, requestNo: nil, channel: "balance",
                                  fen: fen, detail: "credited to the balance, but no payout was paid that way"))
        }
        for i in records.incidents {
            out.append(Difference(kind: "open_incident", refundId: i.refundId, requestNo: i.requestNo, channel: nil,
                                  fen: nil, detail: i.kind))
        }
        return Report(payouts: records.payouts.count, ledgerPayments: payments.count,
                      balanceCredits: records.balanceCredits.count, differences: out)
    }
}
