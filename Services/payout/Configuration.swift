import Foundation
import RefundModel
import StageRuntime

/// Payout's settings (DOMAIN.md §5).
struct PayoutSettings: Sendable {
    /// Base URL of the payment channels' refund API (the payment sandbox locally).
    var channelURL: URL
    /// A call with no answer after this is an unknown outcome, settled by querying, never by paying again.
    var channelTimeout: Double
    /// First pause before asking again about a PROCESSING or unknown refund; doubles up to a minute.
    var pollSeconds: Double
    var calendar: ArrivalCalendar

    init(_ env: Environment) throws {
        let raw = try env.string("CHANNEL_URL", default: "http://127.0.0.1:8090")
        guard let url = URL(string: raw), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigurationError(setting: "CHANNEL_URL", problem: "must be an http(s) URL")
        }
        channelURL = url
        channelTimeout = try env.seconds("CHANNEL_TIMEOUT_SECONDS", default: 10)
        pollSeconds = try env.seconds("PAYOUT_POLL_SECONDS", default: 30)
        guard let c = ArrivalCalendar(holidayList: env.values["HOLIDAYS"] ?? "") else {
            throw ConfigurationError(setting: "HOLIDAYS", problem: "a comma-separated list of YYYY-MM-DD dates")
        }
        calendar = c
    }
}
