/// An ISO 4217 currency code with its number of minor units. Amounts never mix currencies.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String

    public init?(_ code: String) {
        guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else { return nil }
        self.code = code
    }

    public static let cny = Currency("CNY")!
    public var description: String { code }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let c = Currency(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad currency"))
        }
        self = c
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(code)
    }
}

/// Errors of money arithmetic: each is a refusal, never a silently wrong amount.
public enum MoneyError: Error, Equatable, Sendable {
    case overflow
    case currencyMismatch(Currency, Currency)
    case negativeResult
    case invalidFraction
}

/// An amount in integer minor units (fen for CNY) with its currency. Never floating point.
///
/// Amounts in this model are never negative: a refund, a payment and a fee are all magnitudes; direction is carried
/// by what the amount is attached to (a ledger entry's side), not by a sign.
public struct Money: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency = .cny) throws {
        guard minorUnits >= 0 else { throw MoneyError.negativeResult }
        self.minorUnits = minorUnits
        self.currency = currency
    }

    private enum CodingKeys: String, CodingKey { case minorUnits, currency }

    /// Decoding goes through the same check as `init`: a negative amount on the wire is an error, not a value.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let units = try c.decode(Int64.self, forKey: .minorUnits)
        guard units >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .minorUnits, in: c, debugDescription: "negative amount")
        }
        self.minorUnits = units
        self.currency = try c.decode(Currency.self, forKey: .currency)
    }

    public static func zero(_ currency: Currency = .cny) -> Money {
        try! Money(minorUnits: 0, currency: currency)
    }

    /// `¥12.34` style for logs and templates; the minor units stay the truth.
    public var description: String {
        let major = minorUnits / 100, minor = minorUnits % 100
        return "\(currency.code) \(major).\(minor < 10 ? "0" : "")\(minor)"
    }

    public var isZero: Bool { minorUnits == 0 }

    /// Amounts of one currency by value. Comparable cannot throw, and a crash here would be reachable from a message
    /// (a poison that takes its window with it), so amounts of different currencies get a fixed order (by code)
    /// instead; every place where currencies could differ checks them first (`OrderFacts.validate`, the API).
    public static func < (lhs: Money, rhs: Money) -> Bool {
        if lhs.currency != rhs.currency { return lhs.currency.code < rhs.currency.code }
        return lhs.minorUnits < rhs.minorUnits
    }

    private func checkCurrency(_ other: Money) throws {
        guard currency == other.currency else { throw MoneyError.currencyMismatch(currency, other.currency) }
    }

    public func adding(_ other: Money) throws -> Money {
        try checkCurrency(other)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw MoneyError.overflow }
        return try Money(minorUnits: sum, currency: currency)
    }

    /// Subtraction that refuses to go below zero (a refund can never exceed what it is taken from).
    public func subtracting(_ other: Money) throws -> Money {
        try checkCurrency(other)
        guard other.minorUnits <= minorUnits else { throw MoneyError.negativeResult }
        return try Money(minorUnits: minorUnits - other.minorUnits, currency: currency)
    }

    /// `self - other`, or zero when `other` is larger: for "what is left" computations.
    public func subtractingClamped(_ other: Money) throws -> Money {
        try checkCurrency(other)
        return try Money(minorUnits: max(0, minorUnits - other.minorUnits), currency: currency)
    }

    public func minimum(_ other: Money) throws -> Money {
        try checkCurrency(other)
        return minorUnits <= other.minorUnits ? self : other
    }

    /// `self × numerator / denominator`, rounded down to the fen (the platform never pays a fraction it does not
    /// owe). Computed in 128-bit so large amounts times large numerators cannot overflow in between.
    public func multiplied(numerator: Int64, denominator: Int64) throws -> Money {
        guard denominator > 0, numerator >= 0, numerator <= denominator else { throw MoneyError.invalidFraction }
        let product = minorUnits.multipliedFullWidth(by: numerator)
        let (quotient, _) = denominator.dividingFullWidth(product)
        return try Money(minorUnits: quotient, currency: currency)
    }

    /// A share in basis points (1/10,000), e.g. a 5 % fee is 500.
    public func basisPoints(_ bp: Int64) throws -> Money {
        try multiplied(numerator: bp, denominator: 10_000)
    }
}
