import Foundation
import HTTPStage
import RefundModel
import StageRuntime

/// The buyer's in-app messages (站内信) and follow-up tickets on overdue refunds (DOMAIN.md §6).
extension IntakeAPI {
    func messages(caller: Caller, limit: Int) async throws -> [UInt8] {
        guard case .buyer(let buyerId) = caller else { throw APIError(.forbidden, "forbidden", "buyers only") }
        return try await pool.withConnection { db in
            try Self.encode(["messages": try BuyerMessagesRepository(db: db).messages(buyerId: buyerId, limit: limit)])
        }
    }

    /// Why a refund is overdue now, or nil: in review longer than the review promise, or past its expected arrival.
    static func overdueReason(_ r: RefundRecord, enteredAt: Date?, now: Date, reviewOverdue: Double) -> String? {
        if RefundState.awaitingReviewer.contains(r.state), let since = enteredAt, now.timeIntervalSince(since) > reviewOverdue {
            return "in \(r.state.rawValue) for over \(Int(reviewOverdue / 3600)) h"
        }
        if r.state == .processing, r.overdueSince != nil || (r.expectedNextBy.map { $0 < now } ?? false) {
            return "past its expected arrival"
        }
        return nil
    }

    func openTicket(caller: Caller, id: String, body: [UInt8]) async throws -> [UInt8] {
        guard case .buyer(let buyerId) = caller else { throw APIError(.forbidden, "forbidden", "buyers only") }
        guard let refundId = RefundID(id) else { throw APIError.notFound("refund_not_found", "no such refund") }
        let note = body.isEmpty ? nil : try JSONInput(body, allowed: ["note"], maxDepth: 2)
            .string("note", required: false, maxLength: 2000)
        let schema = schema, reviewOverdue = reviewOverdueSeconds
        return try await pool.withConnection { db in
            try StageTransaction.run(on: db, schema: schema) { tx in
                let refunds = RefundRepository(db: tx.db), messages = BuyerMessagesRepository(db: tx.db)
                guard let r = try refunds.refund(refundId, forUpdate: true), r.buyerId == buyerId else {
                    throw APIError.notFound("refund_not_found", "no such refund")
                }
                let now = Date()
                guard let reason = Self.overdueReason(r, enteredAt: try messages.enteredState(refundId, state: r.state),
                                                      now: now, reviewOverdue: reviewOverdue) else {
                    throw APIError.conflict("not_overdue", "a follow-up ticket can be opened once the refund is overdue")
                }
                let ticketId = UUID()
                guard try messages.openTicket(ticketId, refund: refundId, buyerId: buyerId, reason: reason, note: note) else {
                    throw APIError.conflict("ticket_open", "this refund already has an open follow-up ticket")
                }
                try refunds.appendStep(refundId, step: "follow_up", at: now, actor: "buyer",
                                       because: .init(.ticketOpened, ["text": reason]))
                return try Self.encode(try messages.ticket(ticketId))
            }
        }
    }

    func tickets(caller: Caller, locale: BuyerLocale = .en) async throws -> [UInt8] {
        guard case .reviewer = caller else { throw APIError(.forbidden, "forbidden", "reviewers only") }
        return try await pool.withConnection { db in
            let refunds = RefundRepository(db: db)
            let items = try BuyerMessagesRepository(db: db).openTickets().map { t -> [String: AnyEncodable] in
                let refund = try RefundID(t.refundId).flatMap { try refunds.refund($0) }
                return ["ticket": AnyEncodable(t),
                        "refund": AnyEncodable(try refund.map {
                            RefundView($0, steps: try refunds.timeline($0.refundId), locale: locale)
                        })]
            }
            return try Self.encode(["tickets": items])
        }
    }

    func closeTicket(caller: Caller, id: String, body: [UInt8]) async throws -> [UInt8] {
        guard case .reviewer(let reviewerId) = caller else { throw APIError(.forbidden, "forbidden", "reviewers only") }
        guard let ticketId = UUID(uuidString: id) else { throw APIError.notFound("ticket_not_found", "no such ticket") }
        let answer = try JSONInput(body, allowed: ["answer"], maxDepth: 2).string("answer", maxLength: 2000)!
        let schema = schema
        return try await pool.withConnection { db in
            try StageTransaction.run(on: db, schema: schema) { tx in
                let messages = BuyerMessagesRepository(db: tx.db)
                guard let t = try messages.ticket(ticketId, forUpdate: true), let refundId = RefundID(t.refundId) else {
                    throw APIError.notFound("ticket_not_found", "no such ticket")
                }
                guard t.state == "open" else { throw APIError.conflict("ticket_closed", "the ticket is already closed") }
                try messages.closeTicket(ticketId, by: reviewerId, answer: answer)
                try RefundRepository(db: tx.db).appendStep(refundId, step: "follow_up_answered", at: Date(),
                                                           actor: "reviewer:\(reviewerId)", because: .text(answer))
                return try Self.encode(try messages.ticket(ticketId))
            }
        }
    }
}

/// Lets one JSON object mix encodable values of different types.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
