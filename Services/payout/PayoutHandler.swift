import Foundation
import Logging
import RefundModel
import StageRuntime

/// Payout's logic (DOMAIN.md §5): the original route (or the balance where allowed), paid at most once.
///
/// At most once: the payout row and its request number commit with the message that caused them; the channel is
/// called later by a `ChannelCaller`, outside any transaction, always with that number. An unknown outcome (timeout,
/// 5xx) is settled by querying the channel; only a channel that says it never saw the number is asked again — with
/// the same number. A channel's signed callback (`CallbackReceiver`) settles a PROCESSING refund through the same
/// `settle`. Lock order everywhere: the payout row only (no timer row is locked while a payout is), so callbacks,
/// callers and timers cannot deadlock.
struct PayoutHandler: StageHandler {
    static let overdueTimer = "payout-overdue"
    /// Woken (NOTIFY) when a payout becomes due for a channel call, so a caller does not wait for its next poll.
    static let callsChannel = "payout_calls"
    let settings: PayoutSettings
    let client: ChannelClient
    var routes: MessageRoutes {
        MessageRoutes()
            .on(MessageType.refundVerified, RefundVerified.self) { v, _, tx in
                try verified(v, repo: PayoutRepository(db: tx.db), tx: tx)
            }
            .on(MessageType.fallbackChosen, BuyerAction.self) { action, _, tx in
                try fallback(action, repo: PayoutRepository(db: tx.db), tx: tx)
            }
            .on(Topology.Key.orderPlaced, OrderEvent.self) { event, _, tx in
                try placed(event, repo: PayoutRepository(db: tx.db), tx: tx)
            }
    }

    func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        guard deadline.kind == Self.overdueTimer, let id = RefundID(deadline.key) else { return }
        let repo = PayoutRepository(db: tx.db)
        // Settled meanwhile (the timer is not cancelled then, to keep the lock order): nothing is late.
        guard let p = try repo.load(id), p.isOpen else { return }
        try overdue(p, repo: repo, tx: tx)
    }

    /// Applies a channel status to an open payout (from a call, a query, or a verified callback). Returns false
    /// when the status is not final (PROCESSING).
    @discardableResult
    func settle(_ p: PayoutRecord, status: String, repo: PayoutRepository, tx: StageTransaction) throws -> Bool {
        switch status {
        case "SUCCESS":
            try repo.setState(p.refundId, "succeeded", lastStatus: "SUCCESS")
            try repo.scheduleCall(p.refundId, at: nil)
            try publish(p, .credited, actor: "channel:\(p.route)", tx: tx, why: .init(.channelSucceeded, ["channel": p.route]))
            return true
        case "ABNORMAL", "CLOSED":
            try fail(p, lastStatus: status, repo: repo, tx: tx,
                     why: .init(.accountCannotReceive))
            return true
        default:
            try repo.setState(p.refundId, "processing", lastStatus: status)
            return false
        }
    }

    // MARK: - Steps

    /// The marketplace's order: what it paid, per line and in all, and how. Refunds that were verified before it
    /// arrived (no order between queues) are paid now.
    private func placed(_ event: OrderEvent, repo: PayoutRepository, tx: StageTransaction) throws {
        guard let facts = event.order, facts.orderId == event.orderId, !facts.lines.isEmpty else {
            throw StageError.permanent("order.placed without the order and its lines")
        }
        if let problem = facts.problem() { throw StageError.permanent("order.placed refused: \(problem)") }
        let currency = facts.lines[0].paid.currency
        let lines = Dictionary(facts.lines.map { ($0.lineId, $0.paid.minorUnits) }) { a, _ in a }
        let order = PaidOrder(orderId: facts.orderId, buyerId: facts.buyerId, paymentChannel: facts.paymentChannel,
                              currency: currency, totalPaidFen: try facts.totalPaid().minorUnits,
                              linePaidFen: lines)
        if try !repo.saveOrder(order) {
            tx.logger.info("order.placed again: the first placement's amounts stand", metadata: ["order.id": "\(facts.orderId)"])
        }
        for waiting in try repo.takeWaiting(orderId: facts.orderId) {
            try verified(waiting, repo: repo, tx: tx)
        }
    }

    private func verified(_ v: RefundVerified, repo: PayoutRepository, tx: StageTransaction) throws {
        var a = v.approved
        // The caps and the route come from payout's own record of the order (the marketplace's order.placed), never
        // from this message; the lock serializes the check between instances.
        guard let order = try repo.lockOrder(a.orderId) else {
            tx.logger.info("verified before its order reached payout: waiting for it", metadata: ["refund.id": "\(a.refundId)"])
            try repo.wait(v)
            return
        }
        guard order.buyerId == a.buyerId else {
            return try refuse(v, .init(.otherBuyersOrder), tx: tx)
        }
        guard let linePaid = order.linePaidFen[a.lineId] else {
            return try refuse(v, .init(.noSuchLine, ["line": a.lineId]), tx: tx)
        }
        guard v.amount.currency == order.currency else {
            return try refuse(v, .init(.currencyMismatch, ["currency": v.amount.currency.code,
                                                          "orderCurrency": order.currency.code]), tx: tx)
        }
        a.paymentChannel = order.paymentChannel
        let (onLine, onOrder) = try repo.committedFen(orderId: a.orderId, lineId: a.lineId, except: a.refundId)
        guard onLine + v.amount.minorUnits <= linePaid else {
            return try refuse(v, .init(.overRefund, ["scope": "line", "already": String(onLine),
                                                     "more": String(v.amount.minorUnits), "paid": String(linePaid)]),
                              tx: tx)
        }
        guard onOrder + v.amount.minorUnits <= order.totalPaidFen else {
            return try refuse(v, .init(.overRefund, ["scope": "order", "already": String(onOrder),
                                                     "more": String(v.amount.minorUnits),
                                                     "paid": String(order.totalPaidFen)]), tx: tx)
        }
        // Balance where DOMAIN.md §5 offers it (undelivered orders), or when the buyer paid from the balance.
        let toBalance = a.paymentChannel == .balance || (a.preferredRoute == .balance && a.reason == .notDelivered)
        let now = Date()
        if toBalance {
            guard try repo.insert(v, route: PaymentChannel.balance.rawValue, state: "succeeded", sendAt: now,
                                  expectedAt: now) else { return }
            _ = try repo.creditBalance(buyer: a.buyerId, refund: a.refundId, amount: v.amount)
            // Two steps even when instant: the buyer's timeline (and the state machine) go through processing.
            try tx.publishStatus(RefundStatusEvent(
                refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .processing, at: now,
                actor: "system", because: .init(.toBalance), amount: v.amount,
                expectedNextBy: now))
            try tx.publishStatus(RefundStatusEvent(
                refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .credited, at: now,
                actor: "channel:balance", because: .init(.creditedToBalance), amount: v.amount))
            return
        }
        let (sendAt, expected) = timing(a.paymentChannel, now: now)
        guard try repo.insert(v, route: a.paymentChannel.rawValue, state: "pending", sendAt: sendAt,
                              expectedAt: expected, callAt: sendAt) else { return }
        tx.notifyAtCommit(Self.callsChannel)
        try tx.schedule(kind: Self.overdueTimer, key: a.refundId.description, dueAt: expected)
        try tx.publishStatus(RefundStatusEvent(
            refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .processing, at: now, actor: "system",
            because: .init(.sentBack, batchNote(["channel": a.paymentChannel.rawValue], sendAt, now)),
            amount: v.amount, expectedNextBy: expected))
    }

    /// The channel call, outside any transaction (`ChannelCaller` claimed the payout and committed that it is being
    /// called). A payout called before is queried first: only a channel that never saw the number is asked again.
    func callChannel(_ p: PayoutRecord, calledBefore: Bool) -> ChannelClient.Answer {
        let request = ChannelClient.RefundRequest(requestNo: p.requestNo, channel: p.route, orderId: p.orderId,
                                                  amountFen: p.amount.minorUnits, account: p.accountNo)
        let started = Date()
        let answer: ChannelClient.Answer
        if !calledBefore {
            answer = client.refund(request)
        } else {
            let queried = client.query(requestNo: p.requestNo)
            answer = queried == .notFound ? client.refund(request) : queried
        }
        StageMetrics.channelCall(channel: p.route, outcome: answer.metricsOutcome,
                                 seconds: Date().timeIntervalSince(started))
        return answer
    }

    /// Records what the channel answered, in a new transaction, if the payout is still the one that was called
    /// (a callback may have settled it, a fallback given it a new request number).
    func record(_ answer: ChannelClient.Answer, for called: PayoutRecord, repo: PayoutRepository,
                tx: StageTransaction) throws {
        guard let p = try repo.load(called.refundId), p.isOpen, p.requestNo == called.requestNo else { return }
        switch answer {
        case .status(let status):
            if try !settle(p, status: status, repo: repo, tx: tx) { try again(p, repo: repo) }
        case .refused(let why):
            // The channel said no and moved nothing (a business error, not an outage): the buyer is told and
            // chooses where the money goes instead, as for a closed card.
            tx.logger.warning("channel refused the refund", metadata: ["refund.id": "\(p.refundId)", "why": "\(why)"])
            try fail(p, lastStatus: "REFUSED", repo: repo, tx: tx,
                     why: .init(.channelRefused, ["channel": p.route]))
        case .notFound, .unknown:
            tx.logger.warning("channel outcome unknown; will query", metadata: ["refund.id": "\(p.refundId)"])
            try repo.setState(p.refundId, "processing", lastStatus: nil)
            try again(p, repo: repo)
        }
    }

    /// Past the channel's expected arrival and still not confirmed: marked overdue, and the buyer told why
    /// (DOMAIN.md §6: "a delay says why"). The follow-up ticket becomes available in intake.
    private func overdue(_ p: PayoutRecord, repo: PayoutRepository, tx: StageTransaction) throws {
        try repo.markOverdue(p.refundId)
        let channel = PaymentChannel(rawValue: p.route) ?? .bankCard
        let why: Explanation
        switch settings.calendar.promise(for: channel) {
        case .workingDays: why = .init(.lateBankClearing)
        default: why = .init(.lateChannelUnconfirmed, ["channel": p.route])
        }
        try tx.publishStatus(RefundStatusEvent(
            refundId: p.refundId, orderId: p.orderId, buyerId: p.buyerId, step: .processing, at: Date(),
            actor: "system", because: why,
            amount: p.amount, expectedNextBy: p.expectedAt, overdue: true))
    }

    private func fallback(_ action: BuyerAction, repo: PayoutRepository, tx: StageTransaction) throws {
        guard let p = try repo.load(action.refundId), p.state == "failed", p.buyerId == action.buyerId else {
            tx.logger.info("fallback ignored: the payout is not waiting for one", metadata: ["refund.id": "\(action.refundId)"])
            return
        }
        let choice = action.fallback ?? FallbackChoice(route: .balance)
        if choice.route == .account, let account = choice.account, DesignatedAccount.channels.contains(account.channel) {
            // Money moves again under a new request number: the failed one moved nothing (ABNORMAL is final at the
            // channel), and this row's state (failed → pending, under its lock) lets only one fallback through.
            let now = Date()
            let (sendAt, expected) = timing(account.channel, now: now)
            try repo.supersede(p, paidInstead: account.channel.rawValue)
            try repo.retarget(p.refundId, route: account.channel.rawValue, accountNo: account.number, sendAt: sendAt,
                              expectedAt: expected)
            try repo.scheduleCall(p.refundId, at: sendAt)
            tx.notifyAtCommit(Self.callsChannel)
            try tx.schedule(kind: Self.overdueTimer, key: p.refundId.description, dueAt: expected)
            try tx.publishStatus(RefundStatusEvent(
                refundId: p.refundId, orderId: p.orderId, buyerId: p.buyerId, step: .processing, at: now,
                actor: "buyer", because: .init(.choseAccount, batchNote(["channel": account.channel.rawValue,
                                                                         "account": account.masked], sendAt, now)),
                amount: p.amount, expectedNextBy: expected))
            return
        }
        // The failed route moved no money (ABNORMAL); the balance ledger's unique key keeps this at most once.
        try publish(p, .processing, actor: "buyer", tx: tx, why: .init(.choseBalance))
        guard try repo.creditBalance(buyer: p.buyerId, refund: p.refundId, amount: p.amount) else { return }
        try repo.supersede(p, paidInstead: PaymentChannel.balance.rawValue)
        try repo.setState(p.refundId, "succeeded", lastStatus: "BALANCE", route: PaymentChannel.balance.rawValue)
        try publish(p, .credited, actor: "channel:balance", tx: tx, why: .init(.creditedToBalance))
    }

    // MARK: - Helpers

    /// A verified refund payout's own record of the order does not allow: nothing is paid, and the refund ends where
    /// the buyer and reviewers see it (rejected for good, with the rule and the reason), so its line is not left
    /// blocked by a refund that can never be paid.
    private func refuse(_ v: RefundVerified, _ why: Explanation, tx: StageTransaction) throws {
        let a = v.approved
        tx.logger.warning("verified refund refused", metadata: ["refund.id": "\(a.refundId)", "reason": "\(why.code)"])
        try tx.publishStatus(RefundStatusEvent(
            refundId: a.refundId, orderId: a.orderId, buyerId: a.buyerId, step: .rejectedFinal, at: Date(),
            actor: "system", rule: .payoutCap, because: why, amount: v.amount))
    }

    /// When the channel is called (now, or the channel's next daily batch) and when the money is expected.
    private func timing(_ channel: PaymentChannel, now: Date) -> (send: Date, expected: Date) {
        let send = settings.batches.sendTime(channel: channel, now: now)
        return (send, settings.calendar.expectedArrival(channel: channel, paidOutAt: send))
    }

    /// The explanation's parameters, with the batch time when the channel is called later than now.
    private func batchNote(_ params: [String: String], _ sendAt: Date, _ now: Date) -> [String: String] {
        sendAt > now ? params.merging(["at": PlatformTime.iso(sendAt)]) { $1 } : params
    }

    private func again(_ p: PayoutRecord, repo: PayoutRepository) throws {
        let pause = min(60, settings.pollSeconds * pow(2, Double(min(p.attempts, 6))))
        try repo.scheduleCall(p.refundId, at: Date().addingTimeInterval(pause))
    }

    /// The route failed and moved no money: the buyer chooses a fallback (balance or a designated account).
    private func fail(_ p: PayoutRecord, lastStatus: String, repo: PayoutRepository, tx: StageTransaction,
                      why: Explanation) throws {
        try repo.setState(p.refundId, "failed", lastStatus: lastStatus)
        try repo.scheduleCall(p.refundId, at: nil)
        try publish(p, .payoutFailed, actor: "channel:\(p.route)", tx: tx, why: why)
    }

    private func publish(_ p: PayoutRecord, _ step: RefundState, actor: String, tx: StageTransaction,
                         why: Explanation) throws {
        try tx.publishStatus(RefundStatusEvent(
            refundId: p.refundId, orderId: p.orderId, buyerId: p.buyerId, step: step, at: Date(), actor: actor,
            because: why, amount: p.amount))
    }
}
