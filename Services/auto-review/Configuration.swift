import RefundModel
import StageRuntime

/// Auto-review's settings: every threshold and duration of DOMAIN.md §1-3, defaults from the articles.
extension PolicySettings {
    static func from(_ env: SettingsSource) throws -> PolicySettings {
        var s = PolicySettings()
        s.notDeliveredWindow = try env.seconds("NOT_DELIVERED_WINDOW_SECONDS", default: s.notDeliveredWindow)
        s.defectWindow = try env.seconds("DEFECT_WINDOW_SECONDS", default: s.defectWindow)
        s.coolingOff = try env.seconds("COOLING_OFF_SECONDS", default: s.coolingOff)
        s.fastRefundBelowFen = Int64(try env.int("FAST_REFUND_BELOW_FEN", default: Int(s.fastRefundBelowFen),
                                                 range: 0...Int(Int32.max)))
        s.highAmountFromFen = Int64(try env.int("HIGH_AMOUNT_FROM_FEN", default: Int(s.highAmountFromFen),
                                                range: 1...Int.max))
        s.riskWindow = try env.seconds("RISK_WINDOW_SECONDS", default: s.riskWindow)
        s.riskMaxApplications = try env.int("RISK_MAX_APPLICATIONS", default: s.riskMaxApplications, range: 1...1000)
        s.standingWindow = try env.seconds("STANDING_WINDOW_SECONDS", default: s.standingWindow)
        s.standingMaxRejections = try env.int("STANDING_MAX_REJECTIONS", default: s.standingMaxRejections,
                                              range: 1...1000)
        s.reviewSLA = try env.seconds("REVIEW_SLA_SECONDS", default: s.reviewSLA)
        s.highAmountReviewSLA = try env.seconds("HIGH_AMOUNT_REVIEW_SLA_SECONDS", default: s.highAmountReviewSLA)
        return s
    }
}
