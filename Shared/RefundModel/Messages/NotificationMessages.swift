import Foundation

/// The languages buyer messages are written in.
public enum BuyerLocale: String, Codable, Sendable, CaseIterable {
    case zh
    case en
}

/// `buyer.profile` (marketplace → notification): where a buyer wants to hear about refunds. Absent channels are not
/// used; the in-app inbox always is. The newest `updatedAt` wins, whatever order profiles arrive in.
public struct BuyerProfile: Codable, Sendable, Equatable {
    public var buyerId: String
    /// Mainland mobile number (11 digits), personal data.
    public var phone: String?
    /// Personal data.
    public var email: String?
    public var locale: BuyerLocale
    public var updatedAt: Date

    public init(buyerId: String, phone: String? = nil, email: String? = nil, locale: BuyerLocale = .zh, updatedAt: Date) {
        self.buyerId = buyerId
        self.phone = phone
        self.email = email
        self.locale = locale
        self.updatedAt = updatedAt
    }
}

/// `notification.in-app` (notification → intake): one message of the buyer's in-app inbox (站内信).
public struct InAppMessage: Codable, Sendable, Equatable {
    /// Unique per status event: the inbox keeps one message per event.
    public var messageId: String
    public var buyerId: String
    public var refundId: RefundID
    public var step: RefundState
    public var title: String
    public var body: String
    public var locale: BuyerLocale
    public var at: Date

    public init(messageId: String, buyerId: String, refundId: RefundID, step: RefundState, title: String, body: String,
                locale: BuyerLocale, at: Date) {
        self.messageId = messageId
        self.buyerId = buyerId
        self.refundId = refundId
        self.step = step
        self.title = title
        self.body = body
        self.locale = locale
        self.at = at
    }
}
