import CHTTP
import CStrings
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request from a stage's own thread (payout's channel calls, notification's SMS gateway) or a tool:
/// blocking is fine there, it is not Swift's cooperative pool. No answer within the timeout is reported as such —
/// for a call with an effect, the outcome is then unknown, never "failed".
///
/// Through libcurl (Shared/CHTTP), not URLSession: URLSession on Linux runs every request through its own threads
/// and a libcurl multi handle behind them, several thread hops and allocations per request (measured as most of
/// payout's and notification's CPU in the benchmark). Here the request runs on the caller's thread on a libcurl
/// handle taken from a pool, whose keep-alive connections the next request reuses.
public enum BlockingHTTP {
    public enum Outcome: Sendable {
        case answered(status: Int, body: Data)
        case noAnswer(String)
    }

    /// The largest answer body kept; more is cut off (an answer that big is not one any caller expects).
    static let maxBody = 64 << 20

    public static func send(_ request: URLRequest, timeout: Double) -> Outcome {
        exchange(request, timeout: timeout).outcome
    }

    /// `send`, with the answer's headers (empty when there was no answer), names in `Canonical-Case`.
    public static func exchange(_ request: URLRequest, timeout: Double) -> (outcome: Outcome, headers: [String: String]) {
        guard let url = request.url?.absoluteString else { return (.noAnswer("no URL"), [:]) }
        let session = SessionPool.shared.take()
        defer { SessionPool.shared.give(back: session) }
        let headerLines = (request.allHTTPHeaderFields ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        var answer = crefund_http_answer()
        var error = [CChar](repeating: 0, count: Int(CREFUND_HTTP_ERROR_SIZE) + 1)
        let body = request.httpBody
        let rc: Int32 = withCStrings(headerLines) { lines in
            lines.withUnsafeBufferPointer { linesPtr in
                let run = { (bytes: UnsafePointer<CChar>?, count: Int) -> Int32 in
                    crefund_http_perform(session, request.httpMethod ?? "GET", url, linesPtr.baseAddress, lines.count,
                                         bytes, count, Int(max(1, timeout * 1000)), maxBody, &answer, &error)
                }
                guard let body else { return run(nil, 0) }
                // A body of zero bytes is still a body (POST with Content-Length: 0).
                return body.withUnsafeBytes { raw in
                    raw.isEmpty ? run("", 0) : run(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                }
            }
        }
        defer { crefund_http_answer_free(&answer) }
        guard rc == 0 else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (.noAnswer(rc == 28 ? "timeout" : "curl \(rc): \(why)"), [:])
        }
        let data = answer.body.map { Data(bytes: $0, count: answer.body_length) } ?? Data()
        let raw = answer.headers.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: answer.headers_length),
                                              as: UTF8.self) } ?? ""
        return (.answered(status: Int(answer.status), body: data), parseHeaders(raw))
    }

    /// A JSON POST.
    public static func postJSON(_ url: URL, _ object: [String: Any], timeout: Double) -> Outcome {
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.httpBody = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return send(r, timeout: timeout)
    }

    /// "name: value" lines after the status line; a repeated header's values joined with ", " (RFC 9110 §5.3).
    static func parseHeaders(_ raw: String) -> [String: String] {
        var headers: [String: String] = [:]
        for line in raw.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = canonical(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return headers
    }

    /// `retry-after` → `Retry-After`: one spelling whatever case the server wrote.
    static func canonical(_ name: Substring) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "-")
    }
}

/// libcurl handles not in use, each with the keep-alive connections of its last requests. A caller takes one for
/// one request (a handle serves one thread at a time) and gives it back; at most `idleLimit` wait.
private final class SessionPool: @unchecked Sendable {
    static let shared = SessionPool()
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    private let idleLimit = 64

    func take() -> UnsafeMutableRawPointer? {
        if let s = lock.withLock({ idle.popLast() }) { return s }
        return crefund_http_session_new()
    }

    func give(back session: UnsafeMutableRawPointer?) {
        guard let session else { return }
        let kept = lock.withLock { () -> Bool in
            guard idle.count < idleLimit else { return false }
            idle.append(session)
            return true
        }
        if !kept { crefund_http_session_free(session) }
    }
}
