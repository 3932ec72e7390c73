import RefundModel
import Testing

/// The abnormal-rise rule for refund rates (DOMAIN.md §7), with expected values worked out by hand.
@Suite("Refund-rate spikes (binomial test)")
struct RateSpikeTests {
    @Test("the binomial upper tail against hand-computed values")
    func upperTail() {
        // P(X ≥ 2 | n = 30, p = 0.05) = 1 − 0.95^30 − 30·0.05·0.95^29 = 1 − 0.214639 − 0.338903 = 0.446458
        #expect(abs(RateSpike.upperTail(k: 2, n: 30, p: 0.05) - 0.446458) < 1e-5)
        // P(X ≥ 3 | n = 3, p = 0.5) = 0.125; P(X ≥ 0) = 1; k > n is impossible.
        #expect(abs(RateSpike.upperTail(k: 3, n: 3, p: 0.5) - 0.125) < 1e-12)
        #expect(RateSpike.upperTail(k: 0, n: 10, p: 0.2) == 1)
        #expect(RateSpike.upperTail(k: 11, n: 10, p: 0.2) == 0)
        // 12 of 25 at 5 %: C(25,12)·0.05^12·0.95^13 ≈ 5,200,300 · 2.441e-16 · 0.5133 ≈ 6.5e-10, the tail a little more.
        let tiny = RateSpike.upperTail(k: 12, n: 25, p: 0.05)
        #expect(tiny > 6e-10 && tiny < 8e-10, "\(tiny)")
    }

    @Test("a spike is flagged; a steady rate, too few orders and too few refunds are not")
    func judge() {
        let rule = RateSpike()
        let baseline = RateSpike.Counts(orders: 60, refunds: 3)
        let platform = RateSpike.Counts(orders: 1_000, refunds: 50)
        #expect(rule.judge(recent: .init(orders: 25, refunds: 12), baseline: baseline, platform: platform).flagged)
        let steady = rule.judge(recent: .init(orders: 60, refunds: 5), baseline: baseline, platform: platform)
        #expect(!steady.flagged && steady.pValue > 0.1, "\(steady)")
        #expect(!rule.judge(recent: .init(orders: 3, refunds: 3), baseline: baseline, platform: platform).flagged)
        #expect(!rule.judge(recent: .init(orders: 400, refunds: 4), baseline: .init(orders: 0, refunds: 0),
                            platform: .init(orders: 0, refunds: 0)).flagged, "fewer than minRefunds")
        // No history of its own: the platform's rate is the baseline.
        let fresh = rule.judge(recent: .init(orders: 30, refunds: 10), baseline: .init(orders: 0, refunds: 0),
                               platform: platform)
        #expect(fresh.flagged && fresh.baselineRate == 0.05)
    }
}
