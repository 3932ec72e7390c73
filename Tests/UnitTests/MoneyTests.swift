import RefundModel
import Testing

@Suite("Money in fen")
struct MoneyTests {
    func fen(_ n: Int64) throws -> Money { try Money(minorUnits: n) }

    @Test("negative amounts are refused")
    func negative() {
        #expect(throws: MoneyError.negativeResult) { try Money(minorUnits: -1) }
        #expect(throws: MoneyError.negativeResult) { try self.fen(100).subtracting(self.fen(101)) }
    }

    @Test("overflow is reported, never wrapped")
    func overflow() throws {
        #expect(throws: MoneyError.overflow) { try self.fen(Int64.max).adding(self.fen(1)) }
        #expect(try fen(Int64.max - 1).adding(fen(1)).minorUnits == Int64.max)
    }

    @Test("currencies never mix")
    func currencies() throws {
        let usd = try Money(minorUnits: 100, currency: Currency("USD")!)
        #expect(throws: MoneyError.currencyMismatch(.cny, Currency("USD")!)) { try self.fen(100).adding(usd) }
        #expect(Currency("cny") == nil)
        #expect(Currency("CNYY") == nil)
    }

    @Test("fractions round down to the fen, even for huge amounts")
    func fractions() throws {
        #expect(try fen(10_000).multiplied(numerator: 1, denominator: 3).minorUnits == 3_333)
        #expect(try fen(999).basisPoints(500).minorUnits == 49)            // 5 % of ¥9.99 = 49.95 fen → 49
        #expect(try fen(Int64.max).multiplied(numerator: Int64.max - 1, denominator: Int64.max).minorUnits
            == Int64.max - 1)
        #expect(throws: MoneyError.invalidFraction) { try self.fen(1).multiplied(numerator: 2, denominator: 1) }
        #expect(throws: MoneyError.invalidFraction) { try self.fen(1).multiplied(numerator: 1, denominator: 0) }
    }

    @Test("formatting keeps the minor units exact")
    func describe() throws {
        #expect(try fen(123_405).description == "CNY 1234.05")
        #expect(try fen(7).description == "CNY 0.07")
    }
}
