import Foundation
import RefundModel
import StageRuntime

/// Notification's settings (DOMAIN.md §6).
struct NotificationSettings: Sendable {
    /// The SMS gateway's send endpoint (the notify sandbox locally).
    var smsURL: URL
    /// The SMTP server, `smtp://host:port` (libcurl URL; `smtps://` for implicit TLS).
    var smtpURL: String
    /// `SMTP_CA_FILE`: the CA that signed the SMTP server's certificate (default: the system's CAs).
    var smtpCAFile: String?
    /// `SMTP_STARTTLS=1`: an `smtp://` session must upgrade with STARTTLS (the mail is not sent in clear).
    var smtpStartTLS: Bool
    var mailFrom: String
    var messageIdDomain: String
    /// A gateway silent this long is a failed attempt (retried later).
    var gatewayTimeoutSeconds: Int
    /// First pause after a failed attempt, doubling up to `maxRetryMillis`.
    var retryMillis: Int
    var maxRetryMillis: Int
    /// Attempts before a delivery is given up (recorded, logged as an error).
    var maxAttempts: Int
    var idlePollMillis: Int
    /// Sender threads per medium.
    var sendersPerMedium: Int
    /// Deliveries one sender claims, sends and records per round (one transaction for the round).
    var sendBatch: Int

    init(_ env: SettingsSource) throws {
        let sms = try env.string("SMS_URL", default: "http://127.0.0.1:8092/v1/sms")
        guard let url = URL(string: sms), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigurationError(setting: "SMS_URL", problem: "must be an http(s) URL")
        }
        smsURL = url
        smtpURL = try env.string("SMTP_URL", default: "smtp://127.0.0.1:2525")
        guard smtpURL.hasPrefix("smtp://") || smtpURL.hasPrefix("smtps://") else {
            throw ConfigurationError(setting: "SMTP_URL", problem: "must be smtp://host:port or smtps://host:port")
        }
        smtpCAFile = env.values["SMTP_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let ca = smtpCAFile, !FileManager.default.isReadableFile(atPath: ca) {
            throw ConfigurationError(setting: "SMTP_CA_FILE", problem: "cannot read \(ca)")
        }
        smtpStartTLS = try env.int("SMTP_STARTTLS", default: 0, range: 0...1) == 1
        mailFrom = try env.string("MAIL_FROM", default: "refunds@marketplace.example")
        guard ContactAddress.email(mailFrom) != nil else {
            throw ConfigurationError(setting: "MAIL_FROM", problem: "must be an e-mail address")
        }
        messageIdDomain = try env.string("MAIL_MESSAGE_ID_DOMAIN", default: String(mailFrom.split(separator: "@").last ?? ""))
        guard !messageIdDomain.isEmpty,
              messageIdDomain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
            throw ConfigurationError(setting: "MAIL_MESSAGE_ID_DOMAIN", problem: "must be a domain name")
        }
        gatewayTimeoutSeconds = try env.int("GATEWAY_TIMEOUT_SECONDS", default: 10, range: 1...120)
        retryMillis = Int(try env.seconds("NOTIFY_RETRY_SECONDS", default: 2) * 1000)
        maxRetryMillis = Int(try env.seconds("NOTIFY_MAX_RETRY_SECONDS", default: 600) * 1000)
        maxAttempts = try env.int("NOTIFY_MAX_ATTEMPTS", default: 12, range: 1...100)
        // A fallback: new deliveries wake the senders; the poll finds retries whose pause has ended.
        idlePollMillis = try env.int("NOTIFY_POLL_MILLIS", default: 1_000, range: 10...60_000)
        sendersPerMedium = try env.int("SENDERS_PER_MEDIUM", default: 2, range: 1...32)
        sendBatch = try env.int("SEND_BATCH", default: 16, range: 1...500)
    }
}
