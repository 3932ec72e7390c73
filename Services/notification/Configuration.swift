import Foundation
import StageRuntime

/// Notification's settings (DOMAIN.md §6).
struct NotificationSettings: Sendable {
    /// The SMS gateway's send endpoint (the notify sandbox locally).
    var smsURL: URL
    /// The SMTP server, `smtp://host:port` (libcurl URL; `smtps://` for implicit TLS).
    var smtpURL: String
    var mailFrom: String
    /// A gateway silent this long is a failed attempt (retried later).
    var gatewayTimeoutSeconds: Int
    /// First pause after a failed attempt, doubling up to `maxRetryMillis`.
    var retryMillis: Int
    var maxRetryMillis: Int
    /// Attempts before a delivery is given up (recorded, logged as an error).
    var maxAttempts: Int
    var idlePollMillis: Int
    /// Sender threads per channel.
    var sendersPerChannel: Int

    init(_ env: Environment) throws {
        let sms = try env.string("SMS_URL", default: "http://127.0.0.1:8092/v1/sms")
        guard let url = URL(string: sms), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigurationError(setting: "SMS_URL", problem: "must be an http(s) URL")
        }
        smsURL = url
        smtpURL = try env.string("SMTP_URL", default: "smtp://127.0.0.1:2525")
        guard smtpURL.hasPrefix("smtp://") || smtpURL.hasPrefix("smtps://") else {
            throw ConfigurationError(setting: "SMTP_URL", problem: "must be smtp://host:port or smtps://host:port")
        }
        mailFrom = try env.string("MAIL_FROM", default: "refunds@marketplace.example")
        guard NotificationHandler.email(mailFrom) != nil else {
            throw ConfigurationError(setting: "MAIL_FROM", problem: "must be an e-mail address")
        }
        gatewayTimeoutSeconds = try env.int("GATEWAY_TIMEOUT_SECONDS", default: 10, range: 1...120)
        retryMillis = Int(try env.seconds("NOTIFY_RETRY_SECONDS", default: 2) * 1000)
        maxRetryMillis = Int(try env.seconds("NOTIFY_MAX_RETRY_SECONDS", default: 600) * 1000)
        maxAttempts = try env.int("NOTIFY_MAX_ATTEMPTS", default: 12, range: 1...100)
        idlePollMillis = try env.int("NOTIFY_POLL_MILLIS", default: 200, range: 10...60_000)
        sendersPerChannel = try env.int("SENDERS_PER_CHANNEL", default: 2, range: 1...32)
    }
}
