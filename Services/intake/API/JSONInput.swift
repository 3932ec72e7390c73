import Foundation
import RefundModel

/// Strict reading of a request body: an object, not too deep, only known fields, none of the fields a caller may not
/// set, each of the right type. Every failure is an `APIError` naming the field.
struct JSONInput {
    let fields: [String: JSONValue]

    /// Fields that would set state or money that is not the caller's to set: refused loudly, not ignored.
    static let forbidden: Set<String> = ["state", "status", "amount", "approvedAmount", "refundId", "id", "buyerId",
                                         "decision", "rule", "advanceCompensation"]

    init(_ body: [UInt8], allowed: Set<String>, maxDepth: Int, forbidden: Set<String> = JSONInput.forbidden) throws {
        guard !body.isEmpty else { throw APIError.badRequest("malformed_json", "the body is empty") }
        try Self.checkDepth(body, max: maxDepth)
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(body)) } catch {
            throw APIError.badRequest("malformed_json", "the body is not valid JSON")
        }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("body_not_object", "the body must be a JSON object")
        }
        for key in fields.keys.sorted() {
            if forbidden.contains(key) {
                throw APIError.badRequest("field_not_allowed", "\(key) cannot be set by the caller")
            }
            if !allowed.contains(key) { throw APIError.badRequest("unknown_field", "unknown field \(key)") }
        }
        self.fields = fields
    }

    /// Counts bracket nesting outside strings before any parser sees the body.
    static func checkDepth(_ body: [UInt8], max: Int) throws {
        var depth = 0, inString = false, escaped = false
        for b in body {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true }
                else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > max { throw APIError.badRequest("too_deeply_nested", "JSON nesting deeper than \(max)") }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
    }

    func string(_ key: String, required: Bool = true, maxLength: Int = 200) throws -> String? {
        guard let v = fields[key], !isNull(v) else {
            if required { throw APIError.badRequest("missing_field", "\(key) is required") }
            return nil
        }
        guard case .string(let s) = v else { throw APIError.badRequest("wrong_type", "\(key) must be a string") }
        guard !s.isEmpty, s.count <= maxLength else {
            throw APIError.badRequest("invalid_value", "\(key) must be 1 to \(maxLength) characters")
        }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = fields[key], !isNull(v) else { return nil }
        guard case .bool(let b) = v else { throw APIError.badRequest("wrong_type", "\(key) must be true or false") }
        return b
    }

    func enumValue<E: RawRepresentable>(_ key: String, _: E.Type, code: String, required: Bool = true) throws -> E?
    where E.RawValue == String {
        guard let s = try string(key, required: required) else { return nil }
        guard let e = E(rawValue: s) else { throw APIError.badRequest(code, "\(key) \"\(s)\" is not known") }
        return e
    }

    /// An amount: `{"minorUnits": <integer fen>, "currency": "CNY"}`; positive, whole fen.
    func money(_ key: String) throws -> Money? {
        guard let v = fields[key], !isNull(v) else { return nil }
        guard case .object(let o) = v else {
            throw APIError.badRequest("wrong_type", "\(key) must be {\"minorUnits\": <fen>, \"currency\": \"CNY\"}")
        }
        for k in o.keys where k != "minorUnits" && k != "currency" {
            throw APIError.badRequest("unknown_field", "unknown field \(key).\(k)")
        }
        let units: Int64
        switch o["minorUnits"] {
        case .integer(let i)?: units = i
        case .number?: throw APIError.unprocessable("amount_not_integer", "\(key) must be a whole number of fen")
        case nil: throw APIError.badRequest("missing_field", "\(key).minorUnits is required")
        default: throw APIError.badRequest("wrong_type", "\(key).minorUnits must be an integer")
        }
        guard units > 0 else { throw APIError.unprocessable("amount_not_positive", "\(key) must be more than zero") }
        guard case .string(let code)? = o["currency"], let currency = Currency(code) else {
            throw APIError.badRequest("invalid_value", "\(key).currency must be an ISO 4217 code such as CNY")
        }
        return try Money(minorUnits: units, currency: currency)
    }

    /// A designated account for a fallback payout: `{"channel": "bank_card"|"alipay", "number": "..."}`. A card
    /// number is 12-19 digits; an Alipay account is a mainland mobile number or an e-mail address.
    func account(_ key: String) throws -> DesignatedAccount {
        guard let v = fields[key], !isNull(v) else { throw APIError.badRequest("missing_field", "\(key) is required") }
        guard case .object(let o) = v else { throw APIError.badRequest("wrong_type", "\(key) must be an object") }
        guard Set(o.keys).isSubset(of: ["channel", "number"]) else {
            throw APIError.badRequest("unknown_field", "\(key) has only channel and number")
        }
        guard case .string(let c)? = o["channel"], let channel = PaymentChannel(rawValue: c),
              DesignatedAccount.channels.contains(channel) else {
            throw APIError.badRequest("unknown_channel", "\(key).channel must be bank_card or alipay")
        }
        guard case .string(let raw)? = o["number"] else {
            throw APIError.badRequest("missing_field", "\(key).number is required")
        }
        guard let number = DesignatedAccount.normalized(raw, channel: channel) else {
            throw APIError.badRequest("invalid_value", "\(key).number is not a valid account")
        }
        return DesignatedAccount(channel: channel, number: number)
    }

    /// Evidence items: `[{"kind": "...", "reference": "...", "text": "..."}]`, at most 20.
    func evidence(_ key: String) throws -> [EvidenceItem] {
        guard let v = fields[key], !isNull(v) else { return [] }
        guard case .array(let items) = v else { throw APIError.badRequest("wrong_type", "\(key) must be an array") }
        guard items.count <= 20 else { throw APIError.badRequest("invalid_value", "at most 20 evidence items") }
        return try items.map { item in
            guard case .object(let o) = item else {
                throw APIError.badRequest("wrong_type", "each evidence item must be an object")
            }
            let input = JSONInputFields(o)
            for k in o.keys where !["kind", "reference", "text"].contains(k) {
                throw APIError.badRequest("unknown_field", "unknown field \(key).\(k)")
            }
            guard let kind = try input.enumValue("kind", EvidenceKind.self, code: "unknown_evidence_kind") else {
                throw APIError.badRequest("missing_field", "evidence kind is required")
            }
            let reference = try input.string("reference", required: false, maxLength: 500)
            let text = try input.string("text", required: false, maxLength: 2000)
            guard reference != nil || text != nil else {
                throw APIError.badRequest("missing_field", "evidence needs a reference or a text")
            }
            return EvidenceItem(kind: kind, reference: reference, text: text)
        }
    }

    private func isNull(_ v: JSONValue) -> Bool { if case .null = v { return true } else { return false } }
}

/// Nested objects reuse the same typed readers.
private func JSONInputFields(_ fields: [String: JSONValue]) -> JSONInput { JSONInput(fields: fields) }

extension JSONInput {
    fileprivate init(fields: [String: JSONValue]) { self.fields = fields }
}
