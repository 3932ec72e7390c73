import Foundation

/// When a product's (or a supplier's) refund rate has risen abnormally against its own past (DOMAIN.md §7).
///
/// Refunds are counted against the day their order was placed (a cohort), so a rate compares like with like. The
/// recent window (the last `recentDays` days of orders) is judged against the baseline window (the `baselineDays`
/// before it): under the baseline rate `p`, how likely are at least `k` refunds among `n` recent orders? A one-sided
/// binomial test; flagged when that probability is below `alpha`, with at least `minOrders` recent orders and
/// `minRefunds` recent refunds (a handful of orders proves nothing). With no baseline orders the platform-wide
/// rate stands in; `p` is never taken below `floorRate` (a product that never had a refund is not flagged for its
/// first two).
///
/// Rates here are statistics, not money: doubles are fine.
public struct RateSpike: Sendable, Equatable {
    public var recentDays = 7
    public var baselineDays = 30
    public var minOrders = 20
    public var minRefunds = 5
    public var alpha = 0.001
    public var floorRate = 0.01

    public init() {}

    public struct Counts: Sendable, Equatable {
        public var orders: Int
        public var refunds: Int
        public init(orders: Int, refunds: Int) {
            self.orders = orders
            self.refunds = refunds
        }

        public var rate: Double { orders == 0 ? 0 : Double(refunds) / Double(orders) }
    }

    public struct Verdict: Sendable, Equatable {
        public var flagged: Bool
        public var baselineRate: Double
        /// P(X ≥ refunds | orders, baselineRate); 1 when the volume is too small to test.
        public var pValue: Double
    }

    public func judge(recent: Counts, baseline: Counts, platform: Counts) -> Verdict {
        let base = baseline.orders > 0 ? baseline.rate : platform.rate
        let p = max(floorRate, min(base, 0.999))
        guard recent.orders >= minOrders, recent.refunds >= minRefunds, recent.refunds <= recent.orders else {
            return Verdict(flagged: false, baselineRate: base, pValue: 1)
        }
        let tail = Self.upperTail(k: recent.refunds, n: recent.orders, p: p)
        return Verdict(flagged: tail < alpha, baselineRate: base, pValue: tail)
    }

    /// P(X ≥ k) for X ~ Binomial(n, p), summed in log space (n up to millions stays finite).
    public static func upperTail(k: Int, n: Int, p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n else { return 0 }
        let logP = log(p), logQ = log1p(-p)
        // log C(n, i) through lgamma; terms past the peak shrink fast, so stop once they no longer matter.
        var total = 0.0
        var largest = -Double.infinity
        var logs: [Double] = []
        for i in k...n {
            let term = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
                + Double(i) * logP + Double(n - i) * logQ
            logs.append(term)
            largest = max(largest, term)
            if term < largest - 40 { break }
        }
        for t in logs { total += exp(t - largest) }
        return min(1, exp(largest) * total)
    }
}
