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

    static let splitCases: [(Int64, [Int64])] = [
        (100, [1, 1, 1]), (1, [1, 1, 1]), (0, [5, 7]), (10_001, [3, 0, 7]), (Int64.max, [1, 2, 3, 4]),
        (99_999, [333, 333, 334]),
    ]

    @Test("a split's parts add up to the whole, none negative", arguments: splitCases)
    func split(total: Int64, weights: [Int64]) throws {
        let parts = try fen(total).allocated(weights: weights)
        #expect(parts.count == weights.count)
        var sum: Int64 = 0
        for (p, w) in zip(parts, weights) {
            #expect(p.minorUnits >= 0)
            if w == 0 { #expect(p.minorUnits == 0) }
            sum += p.minorUnits
        }
        #expect(sum == total)
    }

    @Test("random splits never create or lose a fen")
    func randomSplits() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let total = Int64.random(in: 0...10_000_000_000, using: &rng)
            let weights = (0..<Int.random(in: 1...12, using: &rng)).map { _ in Int64.random(in: 0...1_000_000) }
            guard weights.contains(where: { $0 > 0 }) else { continue }
            let parts = try fen(total).allocated(weights: weights)
            #expect(parts.reduce(0) { $0 + $1.minorUnits } == total)
            #expect(parts.allSatisfy { $0.minorUnits >= 0 })
        }
    }

    @Test("splits refuse nonsense weights")
    func badWeights() {
        #expect(throws: MoneyError.emptyWeights) { try self.fen(1).allocated(weights: []) }
        #expect(throws: MoneyError.invalidFraction) { try self.fen(1).allocated(weights: [0, 0]) }
        #expect(throws: MoneyError.invalidFraction) { try self.fen(1).allocated(weights: [-1, 2]) }
    }

    @Test("formatting keeps the minor units exact")
    func describe() throws {
        #expect(try fen(123_405).description == "CNY 1234.05")
        #expect(try fen(7).description == "CNY 0.07")
    }
}
