import CSMTP
import Foundation
import StageRuntime

/// What a gateway said about one message.
enum SendResult: Equatable {
    case sent
    /// Worth trying again later: the gateway is down, slow, or said "try later" (5xx, SMTP 4xx).
    case retry(String)
    /// Never worth trying again for this address: invalid number, no such mailbox (HTTP 4xx, SMTP 5xx).
    case refused(String)
}

protocol Gateway: Sendable {
    /// What one sender thread sends through: a connection of its own where the medium keeps one open (SMTP).
    func connect() -> any GatewayConnection
}

protocol GatewayConnection {
    func send(_ d: Delivery) -> SendResult
}

/// A connection several threads may send through at once (each HTTP request takes a pooled libcurl handle of its
/// own): a sender's round then sends its deliveries side by side instead of one after another.
protocol ConcurrentGatewayConnection: GatewayConnection, Sendable {}

/// An HTTP SMS gateway: `POST {url}` with `{"requestId","phone","text"}`. The request id is the delivery's key, so
/// a gateway that deduplicates on it (as Aliyun's `OutId` lets one do) never texts twice after a crash mid-send.
struct SMSGateway: Gateway, ConcurrentGatewayConnection {
    /// BlockingHTTP keeps the HTTP connections alive in its pool of libcurl handles: nothing per thread.
    func connect() -> any GatewayConnection { self }

    let url: URL
    let timeout: Double

    func send(_ d: Delivery) -> SendResult {
        switch BlockingHTTP.postJSON(url, ["requestId": "\(d.eventId):sms", "phone": d.address, "text": d.body],
                                     timeout: timeout) {
        case .noAnswer(let why): return .retry(why)
        case .answered(let code, _) where (200..<300).contains(code): return .sent
        case .answered(let code, let body) where (400..<500).contains(code) && code != 429:
            let reason = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["code"] as? String
            return .refused("HTTP \(code) \(reason ?? "")")
        case .answered(let code, _): return .retry("HTTP \(code)")
        }
    }
}

/// E-mail through an SMTP server with libcurl. The Message-ID is derived from the delivery's key, so a resend
/// after a crash mid-send is recognisable as the same message.
struct SMTPMailer: Gateway {
    let url: String
    let from: String
    /// The right-hand side of every Message-ID (`MAIL_MESSAGE_ID_DOMAIN`; MAIL_FROM's domain by default), so ids are
    /// unique to this installation.
    let messageIdDomain: String
    let timeout: Int
    /// The CA that signed the SMTP server's certificate (nil: the system's CAs).
    var caFile: String? = nil
    /// `smtp://` only: upgrade with STARTTLS or do not send.
    var requireStartTLS = false

    func connect() -> any GatewayConnection { SMTPSession(mailer: self) }

    /// RFC 5322 message with a UTF-8 subject (RFC 2047 base64) and body (base64), CRLF line ends.
    static func compose(_ d: Delivery, from: String, messageIdDomain: String) -> String {
        let subject = "=?UTF-8?B?" + Data(d.title.utf8).base64EncodedString() + "?="
        let body = Data(d.body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn,
                                                                   .endLineWithLineFeed])
        let date = DateFormatter()
        date.locale = Foundation.Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return [
            "From: <\(from)>", "To: <\(d.address)>", "Subject: \(subject)", "Date: \(date.string(from: Date()))",
            "Message-ID: <\(d.eventId).email@\(messageIdDomain)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64", "", body, "",
        ].joined(separator: "\r\n")
    }
}

/// One sender thread's SMTP session: the connection stays open between messages (one greeting, EHLO and TLS
/// handshake per session, not per message); libcurl reconnects when the server has closed it meanwhile.
final class SMTPSession: GatewayConnection {
    let mailer: SMTPMailer
    private let handle: UnsafeMutableRawPointer?

    init(mailer: SMTPMailer) {
        self.mailer = mailer
        handle = crefund_smtp_session_new()
    }

    deinit { crefund_smtp_session_free(handle) }

    func send(_ d: Delivery) -> SendResult {
        let message = SMTPMailer.compose(d, from: mailer.from, messageIdDomain: mailer.messageIdDomain)
        var code: Int = 0
        var error = [CChar](repeating: 0, count: Int(CREFUND_SMTP_ERROR_SIZE) + 1)
        let rc = message.withCString { text in
            crefund_smtp_send(handle, mailer.url, "<\(mailer.from)>", "<\(d.address)>", text, strlen(text),
                              mailer.timeout, &code, &error, mailer.caFile, mailer.requireStartTLS ? 1 : 0)
        }
        if rc == 0 { return .sent }
        let why = "curl \(rc) smtp \(code): " + String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (500..<600).contains(code) ? .refused(why) : .retry(why)
    }
}
