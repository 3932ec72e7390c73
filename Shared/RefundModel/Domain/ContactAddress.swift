import Foundation

/// The one rule for a mobile number and an e-mail address, wherever the platform takes one: a buyer's contact
/// (`buyer.profile`, notification) and an Alipay account designated after a failed payout (intake's API, which
/// publishes the patterns in its OpenAPI document).
public enum ContactAddress {
    /// A mainland mobile number: 11 digits, the first a 1, with spaces or dashes anywhere between them.
    public static let mobilePattern = #"[ -]*1([ -]*[0-9]){10}[ -]*"#
    /// An e-mail address in plain ASCII: nothing an SMTP session could read as a command or a header (no spaces,
    /// `<>,;"`, CR or LF), a domain of dot-separated labels.
    public static let emailPattern = #"[A-Za-z0-9._%+'!#$&*=?^`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}"#
    /// The longest address SMTP carries (RFC 5321).
    public static let maxEmailLength = 254

    /// The digits of a mobile number, or nil.
    public static func mobile(_ raw: String?) -> String? {
        guard let raw, raw.count <= 40, matches(raw, mobilePattern) else { return nil }
        return raw.filter { $0 != " " && $0 != "-" }
    }

    /// The address as typed (surrounding spaces dropped), or nil.
    public static func email(_ raw: String?) -> String? {
        guard let e = raw?.trimmingCharacters(in: .whitespaces), e.count <= maxEmailLength, matches(e, emailPattern)
        else { return nil }
        return e
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: "^(" + pattern + ")$", options: .regularExpression) != nil
    }
}
