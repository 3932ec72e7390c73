import Foundation
import StageRuntime
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
        /// A 4xx other than 404 and 429: the channel refused the refund and applied nothing (a business error).
        case refused(String)

        /// The `outcome` label of `refunds_channel_calls_total`: the channel's status word, or what happened.
        var metricsOutcome: String {
            switch self {
            case .status(let s):
                // Bounded: a channel's unexpected word must not become a new time series.
                return ["SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"].contains(s) ? s.lowercased() : "other"
            case .notFound: return "not_found"
            case .unknown: return "unknown"
            case .refused: return "refused"
            }
        }
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
        switch BlockingHTTP.send(request, timeout: timeout) {
        case .noAnswer(let why): return .unknown(why)
        case .answered(404, _): return .notFound
        case .answered(200, let data):
            guard let status = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["status"] as? String
            else { return .unknown("HTTP 200 without a status") }
            return .status(status)
        case .answered(let code, let data) where (400..<500).contains(code) && code != 429 && code != 408:
            let reason = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["code"] as? String
            return .refused("HTTP \(code) \(reason ?? "")")
        case .answered(let code, _): return .unknown("HTTP \(code)")
        }
    }
}
