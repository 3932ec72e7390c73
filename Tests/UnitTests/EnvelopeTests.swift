import Foundation
import RefundModel
import Testing

@Suite("Message envelope and topology names")
struct EnvelopeTests {
    struct Payload: Codable, Sendable, Equatable {
        var refundId: String
        var amount: Money
    }

    @Test("an envelope round-trips through JSON with its header readable alone")
    func roundTrip() throws {
        let e = Envelope(type: "refund.applied", correlationId: "r-1",
                         payload: Payload(refundId: "r-1", amount: try Money(minorUnits: 49_900)))
        let data = try MessageCoding.encoder().encode(e)
        let back = try MessageCoding.decoder().decode(Envelope<Payload>.self, from: data)
        #expect(back.payload == e.payload)
        #expect(back.id == e.id)
        let header = try MessageCoding.decoder().decode(EnvelopeHeader.self, from: data)
        #expect(header.type == "refund.applied" && header.schemaVersion == 1 && header.correlationId == "r-1")
    }

    @Test("a negative amount in a message does not decode")
    func negativeMoney() {
        let json = #"{"minorUnits": -5, "currency": "CNY"}"#
        #expect(throws: (any Error).self) { try MessageCoding.decoder().decode(Money.self, from: Data(json.utf8)) }
    }

    @Test("each service has one queue named as itself, with a DLQ beside it")
    func names() {
        for s in ServiceName.allCases {
            #expect(Topology.queue(for: s).name == s.rawValue)
            #expect(!Topology.queue(for: s).bindings.isEmpty)
        }
        #expect(Topology.deadLetterQueue(of: "payout") == "payout.dlq")
        #expect(Set(ServiceName.allCases.map(\.schema)).count == ServiceName.allCases.count)
    }
}

@Suite("Message times")
struct MessageTimeTests {
    struct Stamp: Codable, Equatable {
        var at: Date
    }

    @Test("times travel with milliseconds, and times without a fraction still decode")
    func millis() throws {
        let at = Date(timeIntervalSince1970: 1_795_000_000.125)
        let json = String(decoding: try MessageCoding.encoder().encode(Stamp(at: at)), as: UTF8.self)
        #expect(json == #"{"at":"2026-11-18T11:06:40.125Z"}"#)
        let back = try MessageCoding.decoder().decode(Stamp.self, from: Data(json.utf8))
        #expect(abs(back.at.timeIntervalSince(at)) < 0.001)
        let whole = try MessageCoding.decoder().decode(Stamp.self, from: Data(#"{"at":"2026-11-18T11:06:40Z"}"#.utf8))
        #expect(whole.at == Date(timeIntervalSince1970: 1_795_000_000))
        #expect(throws: (any Error).self) {
            try MessageCoding.decoder().decode(Stamp.self, from: Data(#"{"at":"yesterday"}"#.utf8))
        }
    }
}
