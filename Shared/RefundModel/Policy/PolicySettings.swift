/// Every number of DOMAIN.md §1-3 as a setting, with the article's default. Durations in seconds.
public struct PolicySettings: Sendable, Equatable {
    public var notDeliveredWindow: Double = 24 * 3600
    public var defectWindow: Double = 7 * 24 * 3600
    /// DOMAIN.md: 24 h, setting 24-48 h.
    public var coolingOff: Double = 24 * 3600
    /// Fast refund below this amount (¥500).
    public var fastRefundBelowFen: Int64 = 50_000
    /// Manual review from this amount (¥10,000).
    public var highAmountFromFen: Int64 = 1_000_000
    public var riskWindow: Double = 7 * 24 * 3600
    /// More than this many applications in `riskWindow` → enhanced manual review.
    public var riskMaxApplications: Int = 3
    /// Good standing: fewer than this many rejected applications in `standingWindow`.
    public var standingMaxRejections: Int = 2
    public var standingWindow: Double = 90 * 24 * 3600
    /// An eligible application undecided this long after it became complete is paid by the platform.
    public var reviewSLA: Double = 48 * 3600
    /// The longer SLA of high-amount reviews (S4: 3-5 working days of arbitration; 5 days here).
    public var highAmountReviewSLA: Double = 120 * 3600

    public init() {}
}
