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
    /// Channel calls in flight per instance (threads of `ChannelCaller`).
    var channelCallers: Int
    /// Payouts one caller claims per round and calls at once (each call on its own thread, outside any transaction).
    var channelCallBatch: Int
    var calendar: ArrivalCalendar
    /// Channels paid in a daily batch (`BATCH_WINDOWS=bank_card=17:00`); default none: every channel at once.
    var batches: BatchWindows
    /// Where the channels' callbacks arrive (`POST /v1/channel-callbacks/{channel}`).
    var callbackHost: String
    var callbackPort: Int
    /// Callbacks per minute from one address (429 with Retry-After beyond); 0 turns the limit off.
    var callbackRateLimitPerMinute: Int
    /// Shared secret per channel for callback signatures: `alipay=s1,wechat=s2`, `*=s` for every channel. With
    /// none, every callback is refused and polling alone settles refunds.
    var callbackSecrets: [String: String]

    init(_ env: SettingsSource) throws {
        let raw = try env.string("CHANNEL_URL", default: "http://127.0.0.1:8090")
        guard let url = URL(string: raw), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigurationError(setting: "CHANNEL_URL", problem: "must be an http(s) URL")
        }
        channelURL = url
        channelTimeout = try env.seconds("CHANNEL_TIMEOUT_SECONDS", default: 10)
        pollSeconds = try env.seconds("PAYOUT_POLL_SECONDS", default: 30)
        channelCallers = try env.int("CHANNEL_CALLERS", default: 4, range: 1...64)
        channelCallBatch = try env.int("CHANNEL_CALL_BATCH", default: 8, range: 1...64)
        guard let promises = ArrivalCalendar.promises(setting: env.values["ARRIVAL_TIMES"] ?? "") else {
            throw ConfigurationError(setting: "ARRIVAL_TIMES",
                                     problem: "channel=<n>h or channel=<n>d (working days), e.g. bank_card=3d")
        }
        guard let c = ArrivalCalendar(holidayList: env.values["HOLIDAYS"] ?? "", promises: promises) else {
            throw ConfigurationError(setting: "HOLIDAYS", problem: "a comma-separated list of YYYY-MM-DD dates")
        }
        calendar = c
        guard let b = BatchWindows(setting: env.values["BATCH_WINDOWS"] ?? "") else {
            throw ConfigurationError(setting: "BATCH_WINDOWS",
                                     problem: "a comma-separated list of channel=HH:MM (alipay, wechat, bank_card, credit_card)")
        }
        batches = b
        callbackHost = try env.string("CALLBACK_HOST", default: "127.0.0.1")
        callbackPort = try env.int("CALLBACK_PORT", default: 8091, range: 1...65535)
        callbackRateLimitPerMinute = try env.int("CALLBACK_RATE_LIMIT_PER_MINUTE", default: 6_000, range: 0...1_000_000)
        var secrets: [String: String] = [:]
        for entry in (env.values["CHANNEL_SECRETS"] ?? "").split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "*" || PaymentChannel(rawValue: parts[0]) != nil,
                  parts[1].utf8.count >= 16 else {
                throw ConfigurationError(setting: "CHANNEL_SECRETS",
                                         problem: "channel=secret pairs (secrets of at least 16 characters)")
            }
            secrets[parts[0]] = parts[1]
        }
        callbackSecrets = secrets
    }

    func callbackSecret(_ channel: String) -> String? { callbackSecrets[channel] ?? callbackSecrets["*"] }
}
