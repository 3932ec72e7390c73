import Foundation

/// What was sold (DOMAIN.md §1). The kind decides the evidence asked for and which refunds are possible.
public enum ProductKind: String, Codable, Sendable, CaseIterable {
    case cardCode = "card_code"
    case topUp = "top_up"
    case membership
    case licence
    case service
    case physical
}

/// How the buyer paid; the refund goes back the same way by default (DOMAIN.md §5).
public enum PaymentChannel: String, Codable, Sendable, CaseIterable {
    case balance
    case alipay
    case wechat
    case bankCard = "bank_card"
    case creditCard = "credit_card"
}

/// One line of an order as the marketplace reported it, with what happened to it since.
public struct OrderLineFacts: Codable, Sendable, Equatable {
    public var lineId: String
    public var productKind: ProductKind
    public var supplierId: String
    /// The list price; a promotion means `paid` is lower, and only `paid` is ever refunded.
    public var listPrice: Money
    public var paid: Money
    /// Value of a gift given with the purchase; deducted when not returned.
    public var giftValue: Money?
    /// Refund fee in basis points (500 = 5 %), for products that charge one.
    public var refundFeeBp: Int64
    /// The product allows refunds without a reason inside the cooling-off window.
    public var noReasonRefund: Bool
    /// Physical goods made to order: not refundable.
    public var customMade: Bool
    /// Face value of a top-up balance, for pro-rata refunds of partly used balances.
    public var faceValue: Money?
    public var deliveredAt: Date?
    /// Activated or consumed by the buyer.
    public var consumedAt: Date?
    /// Part of a top-up balance already used (from the marketplace's usage records).
    public var usedValue: Money?
    /// Progress of a started service, in basis points of completion.
    public var completionBp: Int64?
    /// Physical goods: the package was opened.
    public var opened: Bool?
    /// The marketplace's product (SKU) id: what refund rates are kept by (DOMAIN.md §7). Optional: without it a
    /// line counts under its kind and supplier.
    public var productId: String?

    public init(lineId: String, productKind: ProductKind, supplierId: String, listPrice: Money, paid: Money,
                giftValue: Money? = nil, refundFeeBp: Int64 = 0, noReasonRefund: Bool = false,
                customMade: Bool = false, faceValue: Money? = nil, deliveredAt: Date? = nil, consumedAt: Date? = nil,
                usedValue: Money? = nil, completionBp: Int64? = nil, opened: Bool? = nil, productId: String? = nil) {
        self.productId = productId
        self.lineId = lineId
        self.productKind = productKind
        self.supplierId = supplierId
        self.listPrice = listPrice
        self.paid = paid
        self.giftValue = giftValue
        self.refundFeeBp = refundFeeBp
        self.noReasonRefund = noReasonRefund
        self.customMade = customMade
        self.faceValue = faceValue
        self.deliveredAt = deliveredAt
        self.consumedAt = consumedAt
        self.usedValue = usedValue
        self.completionBp = completionBp
        self.opened = opened
    }
}

/// An order with its lines, as intake knows it from the marketplace's events.
public struct OrderFacts: Codable, Sendable, Equatable {
    public var orderId: String
    public var buyerId: String
    public var paymentChannel: PaymentChannel
    public var placedAt: Date
    public var paidAt: Date?
    /// When the supplier promised delivery; "not delivered" claims are judged against it.
    public var promisedDeliveryAt: Date
    public var lines: [OrderLineFacts]

    public init(orderId: String, buyerId: String, paymentChannel: PaymentChannel, placedAt: Date, paidAt: Date?,
                promisedDeliveryAt: Date, lines: [OrderLineFacts]) {
        self.orderId = orderId
        self.buyerId = buyerId
        self.paymentChannel = paymentChannel
        self.placedAt = placedAt
        self.paidAt = paidAt
        self.promisedDeliveryAt = promisedDeliveryAt
        self.lines = lines
    }

    public func line(_ id: String) -> OrderLineFacts? { lines.first { $0.lineId == id } }

    /// Why these facts cannot be acted on, or nil: every amount of the order in one currency, lines named once. Checked
    /// where an order enters (intake, payout), so no rule downstream compares yuan with dollars.
    public func problem() -> String? {
        guard let currency = lines.first?.paid.currency else { return "an order without lines" }
        guard Set(lines.map(\.lineId)).count == lines.count else { return "an order with a line named twice" }
        for l in lines {
            let amounts = [l.paid, l.listPrice] + [l.giftValue, l.faceValue, l.usedValue].compactMap { $0 }
            if let other = amounts.first(where: { $0.currency != currency }) {
                return "line \(l.lineId) mixes \(currency) with \(other.currency)"
            }
        }
        return nil
    }

    /// What the buyer paid for the whole order: the cap on the sum of its refunds (DOMAIN.md §1).
    public func totalPaid() throws -> Money {
        try lines.dropFirst().reduce(lines.first?.paid ?? .zero()) { try $0.adding($1.paid) }
    }
}

/// A marketplace order event (`order.placed`, `order.paid`, `order.delivered`, `order.consumed`). `placed` carries
/// the whole order; the others name the order (and line) and the fields that changed.
public struct OrderEvent: Codable, Sendable {
    public var orderId: String
    /// `order.placed` only.
    public var order: OrderFacts?
    public var lineId: String?
    public var paidAt: Date?
    public var deliveredAt: Date?
    public var consumedAt: Date?
    public var usedValue: Money?
    public var completionBp: Int64?
    public var opened: Bool?

    public init(orderId: String, order: OrderFacts? = nil, lineId: String? = nil, paidAt: Date? = nil,
                deliveredAt: Date? = nil, consumedAt: Date? = nil, usedValue: Money? = nil,
                completionBp: Int64? = nil, opened: Bool? = nil) {
        self.orderId = orderId
        self.order = order
        self.lineId = lineId
        self.paidAt = paidAt
        self.deliveredAt = deliveredAt
        self.consumedAt = consumedAt
        self.usedValue = usedValue
        self.completionBp = completionBp
        self.opened = opened
    }

    /// Applies a non-`placed` event to what is known (a line-less delivery applies to every line). Facts only grow
    /// (ARCHITECTURE.md: "whether it is news"): an older or repeated event never erases or rolls back what is known.
    public func apply(to facts: inout OrderFacts) {
        facts.paidAt = facts.paidAt ?? paidAt
        for i in facts.lines.indices where lineId == nil || facts.lines[i].lineId == lineId {
            facts.lines[i].learn(deliveredAt: deliveredAt, consumedAt: consumedAt, usedValue: usedValue,
                                 completionBp: completionBp, opened: opened)
        }
    }
}

extension OrderLineFacts {
    /// Adds what an event says to what is known, never taking anything back: the first delivery and consumption
    /// times stand, usage and completion only grow, an opened package stays opened.
    mutating func learn(deliveredAt: Date?, consumedAt: Date?, usedValue: Money?, completionBp: Int64?,
                        opened: Bool?) {
        self.deliveredAt = self.deliveredAt ?? deliveredAt
        self.consumedAt = self.consumedAt ?? consumedAt
        if let usedValue, usedValue.currency == paid.currency,
           usedValue.minorUnits > (self.usedValue?.minorUnits ?? -1) {
            self.usedValue = usedValue
        }
        if let completionBp { self.completionBp = max(self.completionBp ?? completionBp, completionBp) }
        if opened == true || self.opened == nil { self.opened = opened ?? self.opened }
    }
}

extension OrderFacts {
    /// The order as known after `again`, a repeated `order.placed`: what was placed first stands (buyer, lines,
    /// amounts); facts the repeat adds are learned; nothing known is erased.
    public func merging(placedAgain again: OrderFacts) -> OrderFacts {
        var out = self
        out.paidAt = paidAt ?? again.paidAt
        for i in out.lines.indices {
            guard let l = again.line(out.lines[i].lineId) else { continue }
            out.lines[i].learn(deliveredAt: l.deliveredAt, consumedAt: l.consumedAt, usedValue: l.usedValue,
                               completionBp: l.completionBp, opened: l.opened)
        }
        return out
    }
}
