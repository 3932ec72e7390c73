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
    public init(from decoder: Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: Encoder) throws { try rawValue.encode(to: encoder) }
}

public enum RefundTag {}
public enum MessageTag {}
public typealias RefundID = TypedID<RefundTag>
public typealias MessageID = TypedID<MessageTag>
