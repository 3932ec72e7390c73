import Foundation

/// The envelope every message on the bus carries, as JSON: who it is (id), what it is (type + schema version),
/// which refund story it belongs to (correlation id, normally the refund id), and when it happened.
public struct Envelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var id: MessageID
    public var type: String
    public var schemaVersion: Int
    public var correlationId: String?
    public var occurredAt: Date
    public var payload: Payload

    public init(id: MessageID = MessageID(), type: String, schemaVersion: Int = 1, correlationId: String? = nil,
                occurredAt: Date = Date(), payload: Payload) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.correlationId = correlationId
        self.occurredAt = occurredAt
        self.payload = payload
    }
}

/// The envelope without its payload: what the stage runtime reads before it knows the payload's type.
public struct EnvelopeHeader: Codable, Sendable, Equatable {
    public var id: MessageID
    public var type: String
    public var schemaVersion: Int
    public var correlationId: String?
    public var occurredAt: Date
}

/// One JSON coding convention for every message: ISO-8601 times, sorted keys (stable bytes for idempotency checks).
public enum MessageCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
