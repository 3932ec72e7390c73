import Foundation
import Logging
import RefundModel
import StageRuntime

/// Payout's logic (DOMAIN.md §5): the original route (or the balance where allowed), paid at most once.
///
/// At most once: the payout row and its request number commit with the message that caused them; the channel is
/// called later from a timer, always with that number. An unknown outcome (timeout, 5xx) is settled by querying the
/// channel; only a channel that says it never saw the number is asked again — with the same number.
struct PayoutHandler: StageHandler {
    static let callTimer = "payout-call"
    let settings: PayoutSettings
    let client: ChannelClient
    let logger = Logger(label: "payout")

    func handle(_ message: IncomingMessage, in tx: StageTransaction) throws {
        let repo = PayoutRepository(db: tx.db)
        switch message.header.type {
        case MessageType.refundVerified:
            try verified(try message.decode(RefundVerified.self).payload, repo: repo, tx: tx)
        case MessageType.fallbackChosen:
            try fallback(try message.decode(BuyerAction.self).payload, repo: repo, tx: tx)
        default:
            throw StageError.permanent("no handler for type \(message.header.type)")
        }
    }

    func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        guard deadline.kind == Self.callTimer, let id = RefundID(deadline.key) else { return }
        let repo = PayoutRepository(db: tx.db)
        guard let p = try repo.load(id), p.state == "pending" || p.state == "processing" else { return }
        var answer: ChannelClient.Answer
        if p.called {
            answer = client.query(requestNo: p.requestNo)
            if answer == .notFound {  // never applied: asking again with the same number is safe
                answer = client.refund(requestNo: p.requestNo, channel: p.route, orderId: p.orderId,
                                       amountFen: p.amount.minorUnits)
            }
        } else {
            try repo.markCalled(id)
            answer = client.refund(requestNo: p.requestNo, channel: p.route, orderId: p.orderId,
                                   amountFen: p.amount.minorUnits)
        }
        switch answer {
        case .status("SUCCESS"):
            try repo.setState(id, "succeeded", lastStatus: "SUCCESS")
            try status(p, .credited, actor: "channel:\(p.route)", tx: tx, why: "the \(p.route) refund succeeded")
        case .status("ABNORMAL"), .status("CLOSED"):
            try repo.setState(id, "failed", lastStatus: "ABNORMAL")
            try status(p, .payoutFailed, actor: "channel:\(p.route)", tx: tx,
                       why: "the original account cannot receive it (closed card or frozen account): choose your "
                           + "platform balance to receive it instantly")
        case .status(let other):
            // PROCESSING (or anything not final): ask again later, doubling the pause up to a minute.
            try repo.setState(id, "processing", lastStatus: other)
            try again(p, tx: tx)
        case .notFound, .unknown:
            logger.warning("channel outcome unknown; will query", metadata: ["refund.id": "\(id)"])
            try repo.setState(id, "processing", lastStatus: nil)
            try again(p, tx: tx)
        }
    }

    // MARK: - Steps

    private func verified(_ v: RefundVerified, repo: PayoutRepository, tx: StageTransaction) throws {
        let a = v.approved
        let others = try repo.committedFen(orderId: a.orderId, lineId: a.lineId, except: a.refundId)
        guard others + v.amount.minorUnits <= a.linePaid.minorUnits else {
            throw StageError.permanent("over-refund refused: \(others) fen already refunded on this line, "
                + "\(v.amount.minorUnits) more would exceed the \(a.linePaid.minorUnits) paid")
        }
        // Balance where DOMAIN.md §5 offers it (undelivered orders), or when the buyer paid from the balance.
        let toBalance = a.paymentChannel == .balance || (a.preferredRoute == .balance && a.reason == .notDelivered)
        let now = Date()
        if toBalance {
            guard try repo.insert(v, route: PaymentChannel.balance.rawValue, state: "succeeded", expectedAt: now)
            else { return }
            _ = try repo.creditBalance(buyer: a.buyerId, refund: a.refundId, amount: v.amount)
            // Two steps even when instant: the buyer's timeline (and the state machine) go through processing.
            try tx.publishStatus(RefundStatusEvent(
                refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .processing, at: now,
                actor: "system", explanation: "refund to your platform balance (instant)", amount: v.amount,
                expectedNextBy: now))
            try tx.publishStatus(RefundStatusEvent(
                refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .credited, at: now,
                actor: "channel:balance", explanation: "credited to your platform balance", amount: v.amount))
            return
        }
        let expected = settings.calendar.expectedArrival(channel: a.paymentChannel, paidOutAt: now)
        guard try repo.insert(v, route: a.paymentChannel.rawValue, state: "pending", expectedAt: expected) else {
            return
        }
        try tx.schedule(kind: Self.callTimer, key: a.refundId.description, dueAt: now)
        try tx.publishStatus(RefundStatusEvent(
            refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .processing, at: now, actor: "system",
            explanation: "refund sent back by \(a.paymentChannel.rawValue)", amount: v.amount, expectedNextBy: expected))
    }

    private func fallback(_ action: BuyerAction, repo: PayoutRepository, tx: StageTransaction) throws {
        guard let p = try repo.load(action.refundId), p.state == "failed", p.buyerId == action.buyerId else {
            logger.info("fallback ignored: the payout is not waiting for one", metadata: ["refund.id": "\(action.refundId)"])
            return
        }
        // The failed route moved no money (ABNORMAL); the balance ledger's unique key keeps this at most once.
        try status(p, .processing, actor: "buyer", tx: tx, why: "you chose your platform balance")
        guard try repo.creditBalance(buyer: p.buyerId, refund: p.refundId, amount: p.amount) else { return }
        try repo.setState(p.refundId, "succeeded", lastStatus: "BALANCE", route: PaymentChannel.balance.rawValue)
        try status(p, .credited, actor: "channel:balance", tx: tx, why: "credited to your platform balance")
    }

    // MARK: - Helpers

    private func again(_ p: PayoutRecord, tx: StageTransaction) throws {
        let pause = min(60, settings.pollSeconds * pow(2, Double(min(p.attempts, 6))))
        try tx.schedule(kind: Self.callTimer, key: p.refundId.description, dueAt: Date().addingTimeInterval(pause))
    }

    private func status(_ p: PayoutRecord, _ step: RefundState, actor: String, tx: StageTransaction,
                        why: String) throws {
        try tx.publishStatus(RefundStatusEvent(
            refundId: p.refundId, orderId: p.orderId, buyerId: p.buyerId, step: step, at: Date(), actor: actor,
            explanation: why, amount: p.amount))
    }
}
