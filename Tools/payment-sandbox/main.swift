import Foundation
import Hummingbird
import NIOCore

/// Plays the payment channels' refund APIs over HTTP with their real semantics (modelled on Alipay
/// `alipay.trade.refund` + `out_request_no` and WeChat Pay v3 refunds): a refund request number is idempotent
/// (the same number never pays twice), a refund may be SUCCESS at once, PROCESSING then SUCCESS, or ABNORMAL; the
/// channel can time out after applying the refund. It keeps a ledger of what it actually paid, so tests count.
///
/// Faults by order id: an order id containing `closed-card` → ABNORMAL; `slow` → applied, then the answer comes
/// after 4 s (callers time out before); `flaky` → the first call fails with 503 before applying.
/// PROCESSING channels: `SANDBOX_PROCESSING_CHANNELS` (default `wechat`), settled after `SANDBOX_PROCESSING_SECONDS`.
///
///   POST /v1/refunds        {"channel","outRequestNo","orderId","amountFen","currency"} → {"status", …}
///   GET  /v1/refunds/{no}   → {"status", …} or 404 (never applied)
///   GET  /ledger            → {"payments": [{"outRequestNo","orderId","channel","amountFen"}]}
final class Channels: @unchecked Sendable {
    struct Refund {
        var channel: String
        var orderId: String
        var amountFen: Int64
        var status: String
        var createdAt: Date
    }

    private let lock = NSLock()
    private var refunds: [String: Refund] = [:]
    private var flakyFailed: Set<String> = []
    let processingChannels: Set<String>
    let processingSeconds: Double

    init(processingChannels: Set<String>, processingSeconds: Double) {
        self.processingChannels = processingChannels
        self.processingSeconds = processingSeconds
    }

    /// Applies a refund once per request number; returns its status, or nil for a 503 before applying.
    func apply(no: String, channel: String, orderId: String, amountFen: Int64) -> String? {
        lock.withLock {
            if let r = refunds[no] { return current(no, r) }
            if orderId.contains("flaky"), !flakyFailed.contains(no) {
                flakyFailed.insert(no)
                return nil
            }
            let status = orderId.contains("closed-card") ? "ABNORMAL"
                : processingChannels.contains(channel) ? "PROCESSING" : "SUCCESS"
            refunds[no] = Refund(channel: channel, orderId: orderId, amountFen: amountFen, status: status,
                                 createdAt: Date())
            return status
        }
    }

    func query(_ no: String) -> String? { lock.withLock { refunds[no].map { current(no, $0) } } }

    /// PROCESSING turns into SUCCESS after a while; states only move forward.
    private func current(_ no: String, _ r: Refund) -> String {
        if r.status == "PROCESSING", Date().timeIntervalSince(r.createdAt) >= processingSeconds {
            refunds[no]?.status = "SUCCESS"
            return "SUCCESS"
        }
        return r.status
    }

    /// Money that actually left: everything applied except ABNORMAL.
    func ledger() -> [[String: Any]] {
        lock.withLock {
            refunds.filter { $0.value.status != "ABNORMAL" }.sorted { $0.key < $1.key }.map {
                ["outRequestNo": $0.key, "orderId": $0.value.orderId, "channel": $0.value.channel,
                 "amountFen": $0.value.amountFen]
            }
        }
    }
}

let env = ProcessInfo.processInfo.environment
let port = Int(env["SANDBOX_HTTP_PORT"] ?? "") ?? 8090
let channels = Channels(
    processingChannels: Set((env["SANDBOX_PROCESSING_CHANNELS"] ?? "wechat").split(separator: ",").map(String.init)),
    processingSeconds: Double(env["SANDBOX_PROCESSING_SECONDS"] ?? "") ?? 2)

func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

let router = Router()
router.post("/v1/refunds") { request, _ -> Response in
    var request = request
    let body = try await request.collectBody(upTo: 65_536)
    guard let o = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
          let no = o["outRequestNo"] as? String, let channel = o["channel"] as? String,
          let orderId = o["orderId"] as? String, let amount = (o["amountFen"] as? NSNumber)?.int64Value, amount > 0
    else { return json(.badRequest, ["code": "INVALID_PARAMETER"]) }
    guard let status = channels.apply(no: no, channel: channel, orderId: orderId, amountFen: amount) else {
        return json(.serviceUnavailable, ["code": "SYSTEM_ERROR"])
    }
    if orderId.contains("slow") { try await Task.sleep(for: .seconds(4)) }
    return json(.ok, ["status": status, "outRequestNo": no])
}
router.get("/v1/refunds/:no") { _, context -> Response in
    let no = context.parameters.get("no") ?? ""
    guard let status = channels.query(no) else { return json(.notFound, ["code": "RESOURCE_NOT_EXISTS"]) }
    return json(.ok, ["status": status, "outRequestNo": no])
}
router.get("/ledger") { _, _ in json(.ok, ["payments": channels.ledger()]) }

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port),
                                                           serverName: "payment-sandbox"))
try await app.runService()
