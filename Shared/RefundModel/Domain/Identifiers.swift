import Foundation

/// Typed identifiers: a refund id can never be passed where a message id is expected.
public struct RefundID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    public init?(_ string: String) {
        guard let u = UUID(uuidString: string) else { return nil }
        rawValue = u
    }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: Encoder) throws { try rawValue.encode(to: encoder) }
}

public struct MessageID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID
    public init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }
    public init?(_ string: String) {
        guard let u = UUID(uuidString: string) else { return nil }
        rawValue = u
    }
    public var description: String { rawValue.uuidString.lowercased() }
    public init(from decoder: Decoder) throws { rawValue = try UUID(from: decoder) }
    public func encode(to encoder: Encoder) throws { try rawValue.encode(to: encoder) }
}
