import Foundation
import RefundModel

/// A stage's handlers, one per envelope type it consumes: how its payload decodes and what to do with it. The
/// runtime dispatches on the envelope's `type`; a stage of the platform must register exactly the types the message
/// catalogue says it consumes (`StageDefinition.checkRoutes`), so a message added to the catalogue without its
/// handler stops the stage at start, not at the first such message.
public struct MessageRoutes: Sendable {
    public typealias Handle = @Sendable (IncomingMessage, StageTransaction) throws -> Void
    private var handlers: [String: Handle] = [:]
    private var registeredTwice: [String] = []

    public init() {}

    /// Messages of `type` decode as `P`; `body` gets the payload, the message (its header, its logger) and the
    /// open transaction. A payload that does not decode is a permanent error (dead-lettered with the reason).
    public func on<P: Codable & Sendable>(_ type: String, _: P.Type,
                                          _ body: @escaping @Sendable (P, IncomingMessage, StageTransaction) throws
                                              -> Void) -> MessageRoutes {
        onRaw(type) { message, tx in try body(try message.decode(P.self).payload, message, tx) }
    }

    /// Messages of `type`, decoded by `body` itself (e.g. a supplier's reply, checked against its schema first).
    public func onRaw(_ type: String, _ body: @escaping Handle) -> MessageRoutes {
        var copy = self
        if copy.handlers[type] != nil { copy.registeredTwice.append(type) }
        copy.handlers[type] = body
        return copy
    }

    /// The types with a handler.
    public var types: Set<String> { Set(handlers.keys) }

    func handle(_ message: IncomingMessage, in tx: StageTransaction) throws {
        guard let handler = handlers[message.header.type] else {
            throw StageError.permanent("no handler for type \(message.header.type)")
        }
        try handler(message, tx)
    }

    /// Why these routes do not fit a service that consumes `expected`, or nil.
    func mismatch(expected: Set<String>) -> String? {
        var problems: [String] = []
        if !registeredTwice.isEmpty { problems.append("registered twice: \(registeredTwice.sorted())") }
        let missing = expected.subtracting(types), extra = types.subtracting(expected)
        if !missing.isEmpty { problems.append("consumed without a handler: \(missing.sorted())") }
        if !extra.isEmpty { problems.append("handled but not consumed (MessageCatalogue): \(extra.sorted())") }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
