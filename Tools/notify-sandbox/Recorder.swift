import Foundation

/// What the sandbox received, for tests and the demo to read back.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var sms: [[String: Any]] = []
    private var smsIds: Set<String> = []
    private var smsDuplicates = 0
    private var smsAttempts = 0
    private var mail: [[String: Any]] = []
    private var rcptAttempts = 0

    /// Counts an SMS request; returns its 1-based number (faults key on it).
    func smsAttempt() -> Int { lock.withLock { smsAttempts += 1; return smsAttempts } }

    func rcptAttempt() -> Int { lock.withLock { rcptAttempts += 1; return rcptAttempts } }

    /// Records an SMS once per request id, as a gateway deduplicating on the caller's id does.
    func recordSMS(requestId: String, phone: String, text: String) {
        lock.withLock {
            guard smsIds.insert(requestId).inserted else { smsDuplicates += 1; return }
            sms.append(["requestId": requestId, "phone": phone, "text": text,
                        "at": Recorder.now()])
        }
    }

    func recordMail(_ m: [String: Any]) { lock.withLock { mail.append(m) } }

    /// When a message reached the gateway, to the millisecond: the benchmark's "notified" time (issue 16).
    static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    func smsReport() -> [String: Any] {
        lock.withLock { ["messages": sms, "duplicates": smsDuplicates, "attempts": smsAttempts] }
    }

    func mailReport() -> [String: Any] { lock.withLock { ["messages": mail, "rcptAttempts": rcptAttempts] } }
}
