/// Masks personal data (phone numbers, e-mail addresses, account and card numbers) in any text that goes to a log
/// or a dead letter. Applied by the log handler to every message and metadata value, so no call site can forget.
public enum PersonalData {
    public static func mask(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            // A run of digits (spaces and dashes allowed inside): 11 digits starting with 1 is a mainland mobile,
            // 12-19 is an account or card number; keep the last 4 of those, the first 3 and last 4 of a phone.
            if chars[i].isASCII, chars[i].isNumber {
                var j = i
                var digits: [Character] = []
                while j < chars.count, (chars[j].isASCII && chars[j].isNumber) || ((chars[j] == " " || chars[j] == "-")
                    && j + 1 < chars.count && chars[j + 1].isASCII && chars[j + 1].isNumber) {
                    if chars[j].isNumber { digits.append(chars[j]) }
                    j += 1
                }
                // Digits glued to letters or dashes (a UUID, an order code like "ORD-2026") are identifiers, not
                // personal data: leave them readable.
                let glued = (i > 0 && isIdentifierGlue(chars[i - 1])) || (j < chars.count && isIdentifierGlue(chars[j]))
                if glued {
                    out += String(chars[i..<j])
                } else if digits.count == 11, digits[0] == "1" {
                    out += String(digits[0..<3]) + "****" + String(digits[7...])
                } else if digits.count >= 12 && digits.count <= 19 {
                    out += String(repeating: "*", count: digits.count - 4) + String(digits[(digits.count - 4)...])
                } else {
                    out += String(chars[i..<j])
                }
                i = j
                continue
            }
            if chars[i] == "@" {
                // Mask the local part already written (back to a separator) and keep the domain.
                var local = 0
                while let last = out.last, isEmailLocal(last) {
                    out.removeLast()
                    local += 1
                }
                if local > 0 {
                    out += "***@"
                } else {
                    out.append("@")
                }
                i += 1
                continue
            }
            out.append(chars[i])
            i += 1
        }
        return out
    }

    /// A message body as a dead letter may keep it: text masked, anything else replaced by a note of its size.
    public static func maskedBody(_ body: [UInt8]) -> [UInt8] {
        String(validating: body, as: UTF8.self).map { Array(mask($0).utf8) } ?? Array("<\(body.count) bytes, not UTF-8>".utf8)
    }

    private static func isIdentifierGlue(_ c: Character) -> Bool {
        (c.isASCII && c.isLetter) || c == "-" || c == "_"
    }

    private static func isEmailLocal(_ c: Character) -> Bool {
        (c.isASCII && (c.isLetter || c.isNumber)) || c == "." || c == "_" || c == "+" || c == "-" || c == "%"
    }
}
