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

/// One JSON coding convention for every message: ISO-8601 UTC times with milliseconds, sorted keys (stable bytes
/// for idempotency checks).
///
/// Milliseconds because the steps of one refund are ordered by their time (a projection must not depend on arrival
/// order), and whole seconds put most of a fast refund's steps on the same instant. Times without a fraction (older
/// messages, a supplier's hand-written reply) still decode.
public enum MessageCoding {
    static let withMillis = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    static let wholeSeconds = Date.ISO8601FormatStyle()

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            // The formatter truncates; a nudge of a fifth of a millisecond makes it print the rounded millisecond
            // (`millis`), so a time written here and the same time stored by a service compare equal.
            try c.encode(withMillis.format(millis(date).addingTimeInterval(0.0002)))
        }
        e.outputFormatting = [.sortedKeys]
        return e
    }

    /// The time rounded to the millisecond, as messages carry it. A service that stores its own step times beside
    /// times from messages rounds them the same way, so two steps of one instant tie instead of swapping.
    public static func millis(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = try? withMillis.parse(text) { return date }
            if let date = try? wholeSeconds.parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO-8601 time: \(text.prefix(40))")
        }
        return d
    }
}
