import ChannelSigning
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import NIOCore

/// Plays the payment channels' refund APIs over HTTP with their real semantics (modelled on Alipay
/// `alipay.trade.refund` + `out_request_no` and WeChat Pay v3 refunds): a refund request number is idempotent
/// (the same number never pays twice), a refund may be SUCCESS at once, PROCESSING then SUCCESS, or ABNORMAL; the
/// channel can time out after applying the refund. It keeps a ledger of what it actually paid, so tests count.
///
/// Faults by order id: an order id containing `closed-card` → ABNORMAL; `slow` → applied, then the answer comes
/// after 4 s (callers time out before); `flaky` → the first call fails with 503 before applying; `stuck` →
/// PROCESSING that never settles (a bank that is late); `refused` → 400 TRADE_NOT_ALLOW_REFUND, nothing applied.
/// PROCESSING channels: `SANDBOX_PROCESSING_CHANNELS` (default `wechat`), settled after `SANDBOX_PROCESSING_SECONDS`.
/// With `SANDBOX_CALLBACK_URL` and `SANDBOX_CALLBACK_SECRET`, a PROCESSING refund's result is also pushed as a signed
/// callback (`<url>/<channel>`), retried with a doubling pause until answered 2xx, as WeChat Pay does; an order id
/// containing `dup-callback` gets its callback delivered twice (the second with a new nonce).
///
///   POST /v1/refunds        {"channel","outRequestNo","orderId","amountFen","account"?} → {"status", …}
///   GET  /v1/refunds/{no}   → {"status", …} or 404 (never applied)
///   GET  /faults            → {"faults": {"flaky": [orderId…], "slow": […], "refused": […], "dup-callback": […]}}
///   GET  /ledger            → {"payments": [{"outRequestNo","orderId","channel","amountFen","account"?}]}
///   POST /ledger            {"outRequestNo","orderId","channel","amountFen"} plants a payment the platform never
///                           asked for (a channel's own mistake), for reconciliation tests; or SUCCESS for a number
///                           it had answered ABNORMAL (the channel paid after all)
///   GET  /callbacks         → {"callbacks": [{"outRequestNo","attempts","delivered"}]}
final class Channels: @unchecked Sendable {
    struct Refund {
        var channel: String
        var orderId: String
        var amountFen: Int64
        var account: String?
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
    func apply(no: String, channel: String, orderId: String, amountFen: Int64, account: String?) -> String? {
        lock.withLock {
            if let r = refunds[no] { return current(no, r) }
            if orderId.contains("flaky"), !flakyFailed.contains(no) {
                flakyFailed.insert(no)
                faults.note("flaky", orderId)
                return nil
            }
            // The closed card is the order's original account; a designated account (a fallback) is open.
            let status = orderId.contains("closed-card") && account == nil ? "ABNORMAL"
                : processingChannels.contains(channel) || orderId.contains("stuck") ? "PROCESSING" : "SUCCESS"
            refunds[no] = Refund(channel: channel, orderId: orderId, amountFen: amountFen, account: account,
                                 status: status, createdAt: Date())
            return status
        }
    }

    func query(_ no: String) -> String? { lock.withLock { refunds[no].map { current(no, $0) } } }

    /// A payment that appears in the ledger without (or against) the platform's request: `POST /ledger`.
    func plant(no: String, channel: String, orderId: String, amountFen: Int64) {
        lock.withLock {
            refunds[no] = Refund(channel: channel, orderId: orderId, amountFen: amountFen, account: nil,
                                 status: "SUCCESS", createdAt: Date())
        }
    }

    /// PROCESSING turns into SUCCESS after a while; states only move forward.
    private func current(_ no: String, _ r: Refund) -> String {
        if r.status == "PROCESSING", !r.orderId.contains("stuck"),
           Date().timeIntervalSince(r.createdAt) >= processingSeconds {
            refunds[no]?.status = "SUCCESS"
            return "SUCCESS"
        }
        return r.status
    }

    /// Money that actually left: everything applied except ABNORMAL.
    func ledger() -> [[String: Any]] {
        lock.withLock {
            refunds.filter { $0.value.status != "ABNORMAL" }.sorted { $0.key < $1.key }.map {
                var entry: [String: Any] = ["outRequestNo": $0.key, "orderId": $0.value.orderId,
                                            "channel": $0.value.channel, "amountFen": $0.value.amountFen]
                if let account = $0.value.account { entry["account"] = account }
                return entry
            }
        }
    }
}

/// Which injected faults really fired, by kind, with the order ids: a test that says "paid once despite a 503"
/// checks here that the 503 happened (a "paid once" also holds when no fault fired). `GET /faults`.
final class FaultRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var fired: [String: [String]] = [:]
    func note(_ kind: String, _ orderId: String) { lock.withLock { fired[kind, default: []].append(orderId) } }
    func report() -> [String: [String]] { lock.withLock { fired } }
}
let faults = FaultRecord()

/// Pushes signed results to the platform (WeChat Pay v3 style), retrying with a doubling pause until a 2xx.
final class Callbacks: @unchecked Sendable {
    let url: URL
    let secret: String
    private let lock = NSLock()
    private var attempts: [String: (Int, Int)] = [:]  // request number → (attempts, delivered)

    init(url: URL, secret: String) {
        self.url = url
        self.secret = secret
    }

    func deliver(no: String, channel: String, status: String, amountFen: Int64) async {
        var pause = 0.5
        for _ in 0..<12 {
            let body = (try? JSONSerialization.data(withJSONObject: [
                "outRequestNo": no, "status": status, "amountFen": amountFen,
            ], options: [.sortedKeys])) ?? Data()
            let ts = Int64(Date().timeIntervalSince1970)
            let nonce = UUID().uuidString
            var request = URLRequest(url: url.appendingPathComponent(channel))
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(String(ts), forHTTPHeaderField: CallbackSignature.timestampHeader)
            request.setValue(nonce, forHTTPHeaderField: CallbackSignature.nonceHeader)
            request.setValue(CallbackSignature.sign(secret: secret, timestamp: ts, nonce: nonce, body: [UInt8](body)),
                             forHTTPHeaderField: CallbackSignature.signatureHeader)
            request.timeoutInterval = 5
            let code = ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode ?? 0
            let ok = (200..<300).contains(code)
            lock.withLock {
                let (a, d) = attempts[no] ?? (0, 0)
                attempts[no] = (a + 1, d + (ok ? 1 : 0))
            }
            if ok { return }
            try? await Task.sleep(for: .seconds(pause))
            pause = min(pause * 2, 30)
        }
    }

    func report() -> [[String: Any]] {
        lock.withLock {
            attempts.sorted { $0.key < $1.key }.map {
                ["outRequestNo": $0.key, "attempts": $0.value.0, "delivered": $0.value.1]
            }
        }
    }
}

let env = ProcessInfo.processInfo.environment
let callbacks: Callbacks? = {
    guard let raw = env["SANDBOX_CALLBACK_URL"], let url = URL(string: raw),
          let secret = env["SANDBOX_CALLBACK_SECRET"], !secret.isEmpty else { return nil }
    return Callbacks(url: url, secret: secret)
}()
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
    // A business refusal (Alipay's ACQ.TRADE_NOT_ALLOW_REFUND style): nothing applied, nothing to query later.
    if orderId.contains("refused") {
        faults.note("refused", orderId)
        return json(.badRequest, ["code": "TRADE_NOT_ALLOW_REFUND"])
    }
    let fresh = channels.query(no) == nil
    guard let status = channels.apply(no: no, channel: channel, orderId: orderId, amountFen: amount,
                                      account: o["account"] as? String) else {
        return json(.serviceUnavailable, ["code": "SYSTEM_ERROR"])
    }
    if fresh, status == "PROCESSING", let callbacks {
        let wait = channels.processingSeconds
        Task {
            try? await Task.sleep(for: .seconds(wait))
            let final = channels.query(no) ?? "SUCCESS"
            await callbacks.deliver(no: no, channel: channel, status: final, amountFen: amount)
            if orderId.contains("dup-callback") {
                faults.note("dup-callback", orderId)
                await callbacks.deliver(no: no, channel: channel, status: final, amountFen: amount)
            }
        }
    }
    if orderId.contains("slow") {
        faults.note("slow", orderId)
        try await Task.sleep(for: .seconds(4))
    }
    return json(.ok, ["status": status, "outRequestNo": no])
}
router.get("/v1/refunds/:no") { _, context -> Response in
    let no = context.parameters.get("no") ?? ""
    guard let status = channels.query(no) else { return json(.notFound, ["code": "RESOURCE_NOT_EXISTS"]) }
    return json(.ok, ["status": status, "outRequestNo": no])
}
router.get("/ledger") { _, _ in json(.ok, ["payments": channels.ledger()]) }
router.post("/ledger") { request, _ -> Response in
    var request = request
    let body = try await request.collectBody(upTo: 65_536)
    guard let o = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
          let no = o["outRequestNo"] as? String, let channel = o["channel"] as? String,
          let orderId = o["orderId"] as? String, let fen = (o["amountFen"] as? NSNumber)?.int64Value
    else { return json(.badRequest, ["code": "INVALID_REQUEST"]) }
    channels.plant(no: no, channel: channel, orderId: orderId, amountFen: fen)
    return json(.ok, ["planted": no])
}
router.get("/callbacks") { _, _ in json(.ok, ["callbacks": callbacks?.report() ?? []]) }
router.get("/faults") { _, _ in json(.ok, ["faults": faults.report()]) }

let app = Application(router: router, configuration: .init(address: .hostname(env["SANDBOX_HOST"] ?? "127.0.0.1", port: port),
                                                           serverName: "payment-sandbox"))
try await app.runService()
