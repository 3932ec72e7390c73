import Foundation
@testable import Intake
import RefundModel
import Testing

@Suite("Intake's strict reading of request bodies (JSONInput)")
struct JSONInputTests {
    static let allowed: Set<String> = ["orderId", "note", "requested", "account", "evidence", "urgent"]

    func read(_ body: String, maxDepth: Int = 8) throws -> JSONInput {
        try JSONInput(Array(body.utf8), allowed: Self.allowed, maxDepth: maxDepth)
    }

    /// The error code a body gets, or "ok".
    func code(_ body: String, _ use: (JSONInput) throws -> Void = { _ in }) -> String {
        do {
            try use(try read(body))
            return "ok"
        } catch let e as APIError {
            return "\(e.status.code) \(e.code)"
        } catch {
            return "\(error)"
        }
    }

    @Test("the body as a whole", arguments: [
        ("", "400 malformed_json"), ("{", "400 malformed_json"), ("[1]", "400 body_not_object"),
        ("\"text\"", "400 body_not_object"), (#"{"colour": 1}"#, "400 unknown_field"),
        (#"{"amount": 1}"#, "400 field_not_allowed"), (#"{"state": "credited"}"#, "400 field_not_allowed"),
        (#"{"note": "x"}"#, "ok"),
        (String(repeating: "[", count: 9) + String(repeating: "]", count: 9), "400 too_deeply_nested"),
        // Brackets inside a string are text, not nesting.
        (#"{"note": "[[[[[[[[[[[[[[[[[["}"#, "ok"),
    ])
    func body(_ body: String, expected: String) {
        #expect(code(body) == expected)
    }

    @Test("typed fields", arguments: [
        (#"{"note": 7}"#, "400 wrong_type"), (#"{}"#, "400 missing_field"), (#"{"note": ""}"#, "400 invalid_value"),
        (#"{"note": null}"#, "400 missing_field"),
    ])
    func strings(_ body: String, expected: String) {
        #expect(code(body) { _ = try $0.string("note") } == expected)
    }

    @Test("amounts: whole positive fen with an ISO currency", arguments: [
        (#"{"requested": {"minorUnits": 1500, "currency": "CNY"}}"#, "ok"),
        (#"{"requested": {"minorUnits": 15.5, "currency": "CNY"}}"#, "422 amount_not_integer"),
        (#"{"requested": {"minorUnits": 0, "currency": "CNY"}}"#, "422 amount_not_positive"),
        (#"{"requested": {"minorUnits": -100, "currency": "CNY"}}"#, "422 amount_not_positive"),
        (#"{"requested": {"minorUnits": "100", "currency": "CNY"}}"#, "400 wrong_type"),
        (#"{"requested": {"currency": "CNY"}}"#, "400 missing_field"),
        (#"{"requested": {"minorUnits": 100, "currency": "yuan"}}"#, "400 invalid_value"),
        (#"{"requested": {"minorUnits": 100, "currency": "CNY", "fx": 1}}"#, "400 unknown_field"),
        (#"{"requested": 100}"#, "400 wrong_type"),
    ])
    func money(_ body: String, expected: String) {
        #expect(code(body) { _ = try $0.money("requested") } == expected)
    }

    @Test("the amount read is the fen sent")
    func moneyValue() throws {
        let m = try read(#"{"requested": {"minorUnits": 1500, "currency": "CNY"}}"#).money("requested")
        #expect(m == (try Money(minorUnits: 1_500)))
    }

    @Test("designated accounts", arguments: [
        (#"{"account": {"channel": "bank_card", "number": "6222 0200 1234 5678"}}"#, "ok"),
        (#"{"account": {"channel": "alipay", "number": "13800138000"}}"#, "ok"),
        (#"{"account": {"channel": "wechat", "number": "13800138000"}}"#, "400 unknown_channel"),
        (#"{"account": {"channel": "bank_card", "number": "12"}}"#, "400 invalid_value"),
        (#"{"account": {"channel": "bank_card"}}"#, "400 missing_field"),
        (#"{"account": {"channel": "bank_card", "number": "6222020012345678", "cvv": "1"}}"#, "400 unknown_field"),
        (#"{}"#, "400 missing_field"),
    ])
    func account(_ body: String, expected: String) {
        #expect(code(body) { _ = try $0.account("account") } == expected)
    }

    @Test("evidence items", arguments: [
        (#"{"evidence": [{"kind": "order_number", "reference": "o-1"}]}"#, "ok"),
        (#"{"evidence": [{"kind": "selfie", "reference": "x"}]}"#, "400 unknown_evidence_kind"),
        (#"{"evidence": [{"kind": "order_number"}]}"#, "400 missing_field"),
        (#"{"evidence": [{"kind": "order_number", "text": "t", "url": "u"}]}"#, "400 unknown_field"),
        (#"{"evidence": ["order_number"]}"#, "400 wrong_type"),
        (#"{"evidence": {}}"#, "400 wrong_type"),
        ("{\"evidence\": [" + Array(repeating: #"{"kind": "other", "text": "t"}"#, count: 21).joined(separator: ",")
            + "]}", "400 invalid_value"),
    ])
    func evidence(_ body: String, expected: String) {
        #expect(code(body) { _ = try $0.evidence("evidence") } == expected)
    }
}
