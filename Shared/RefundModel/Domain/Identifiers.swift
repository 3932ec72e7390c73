import Foundation

/// A UUID typed by what it identifies: a refund id can never be passed where a message id is expected.
public struct TypedID<Tag>: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    public init?(_ string: String) {
        guard let u = UUID(uuidString: string) else { return nil }
        rawValue = u
    }
    /// Lower-case, as PostgreSQL prints uuids, so ids compare equal as text everywhere.
    public var description: String { rawValue.uuidString.lowercased() }
    /// Read in either case (a supplier may write upper case).
    public init(from decoder: Decoder) throws { rawValue = try UUID(from: decoder) }
    /// Written in lower case, like the AMQP `message_id` and every id the platform prints: one case everywhere
    /// (Foundation would write upper case).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

public enum RefundTag {}
public enum MessageTag {}
public typealias RefundID = TypedID<RefundTag>
public typealias MessageID = TypedID<MessageTag>
