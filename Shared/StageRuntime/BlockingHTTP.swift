import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request from a stage's own thread (payout's channel calls, notification's SMS gateway): blocking is
/// fine there, it is not Swift's cooperative pool. No answer within the timeout is reported as such — for a call
/// with an effect, the outcome is then unknown, never "failed".
public enum BlockingHTTP {
    public enum Outcome: Sendable {
        case answered(status: Int, body: Data)
        case noAnswer(String)
    }

    public static func send(_ request: URLRequest, timeout: Double) -> Outcome {
        exchange(request, timeout: timeout).outcome
    }

    /// `send`, with the answer's headers (empty when there was no answer).
    public static func exchange(_ request: URLRequest, timeout: Double) -> (outcome: Outcome, headers: [String: String]) {
        var request = request
        request.timeoutInterval = timeout
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data, response as? HTTPURLResponse, error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + timeout + 1) == .success else { return (.noAnswer("timeout"), [:]) }
        let (data, response, error) = box.get()
        if let error { return (.noAnswer("\(error)"), [:]) }
        var headers: [String: String] = [:]
        for (k, v) in response?.allHeaderFields ?? [:] {
            if let k = k as? String, let v = v as? String { headers[k] = v }
        }
        return (.answered(status: response?.statusCode ?? 0, body: data ?? Data()), headers)
    }

    /// A JSON POST.
    public static func postJSON(_ url: URL, _ object: [String: Any], timeout: Double) -> Outcome {
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.httpBody = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return send(r, timeout: timeout)
    }
}

private final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, HTTPURLResponse?, Error?) = (nil, nil, nil)
    func set(_ d: Data?, _ r: HTTPURLResponse?, _ e: Error?) { lock.withLock { value = (d, r, e) } }
    func get() -> (Data?, HTTPURLResponse?, Error?) { lock.withLock { value } }
}
