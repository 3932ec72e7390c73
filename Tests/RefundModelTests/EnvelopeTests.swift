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
