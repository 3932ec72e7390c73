import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The payment channels' refund API, called from payout's deadline thread (blocking is fine there: it is not
/// Swift's cooperative pool). Every call carries the payout's request number.
struct ChannelClient: Sendable {
    let baseURL: URL
    let timeout: Double

    enum Answer: Equatable {
        case status(String)
        /// The channel has no refund with this number: it was never applied.
        case notFound
        /// No answer, or a 5xx: the outcome is unknown until queried.
        case unknown(String)
    }

    struct RefundRequest {
        var requestNo: String
        var channel: String
        var orderId: String
        var amountFen: Int64
        /// A designated account (fallback); nil pays back the original payment.
        var account: String?
    }

    func refund(_ refund: RefundRequest) -> Answer {
        var r = URLRequest(url: baseURL.appendingPathComponent("v1/refunds"))
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        var body: [String: Any] = ["outRequestNo": refund.requestNo, "channel": refund.channel,
                                   "orderId": refund.orderId, "amountFen": refund.amountFen]
        if let account = refund.account { body["account"] = account }
        r.httpBody = try? JSONSerialization.data(withJSONObject: body)
        return call(r)
    }

    func query(requestNo: String) -> Answer {
        call(URLRequest(url: baseURL.appendingPathComponent("v1/refunds/\(requestNo)")))
    }

    private func call(_ request: URLRequest) -> Answer {
        var request = request
        request.timeoutInterval = timeout
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data, (response as? HTTPURLResponse)?.statusCode, error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + timeout + 1) == .success else { return .unknown("timeout") }
        let (data, code, error) = box.get()
        if let error { return .unknown("\(error)") }
        if code == 404 { return .notFound }
        guard code == 200, let data,
              let status = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String
        else { return .unknown("HTTP \(code ?? 0)") }
        return .status(status)
    }
}

private final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, Int?, Error?) = (nil, nil, nil)
    func set(_ d: Data?, _ c: Int?, _ e: Error?) { lock.withLock { value = (d, c, e) } }
    func get() -> (Data?, Int?, Error?) { lock.withLock { value } }
}
