import ChannelSigning
import Foundation
import HTTPStage
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RefundModel
import StageRuntime

/// The payment channels' asynchronous notifications (WeChat Pay v3 style): `POST /v1/channel-callbacks/{channel}`
/// with `{"outRequestNo","status","amountFen"}` and a signature over timestamp, nonce and body.
///
/// A callback changes something only when its signature is right, it is fresh, its nonce is new (a replay is
/// refused), and it names an open payout of that channel for that amount. A duplicate (the channel retries until it
/// gets a 2xx) finds the payout already settled and changes nothing; states only move forward.
struct CallbackReceiver: Sendable {
    let pool: DatabasePool
    let schema: String
    let settings: PayoutSettings
    let handler: PayoutHandler
    let logger = Logger(label: "payout-callbacks")
    let limiter: RateLimiter
    static let bodyLimit = 16_384

    func router() -> Router<AddressedContext> {
        let router = Router(context: AddressedContext.self)
        // Requests by route, method and status (`refunds_http_requests_total`, `refunds_http_request_duration_seconds`:
        // Hummingbird's names, renamed in `StageMetrics`),
        // into the registry the health port's /metrics prints.
        router.add(middleware: MetricsMiddleware())
        router.post("/v1/channel-callbacks/:channel") { request, context -> Response in
            let channel = context.parameters.get("channel") ?? ""
            // Per address, before any work: a flood of (even unsigned) callbacks cannot take the database with it.
            if let wait = limiter.take(context.clientAddress) {
                var r = Self.answer(.tooManyRequests, "FAIL", "too many callbacks: retry later")
                r.headers[.retryAfter] = String(wait)
                return r
            }
            var request = request
            guard let body = try? await request.collectBody(upTo: Self.bodyLimit) else {
                return Self.answer(.contentTooLarge, "FAIL", "body too large")
            }
            let bytes = [UInt8](body.readableBytesView)
            let (status, code, message) = await receive(channel: channel, headers: request.headers, body: bytes)
            return Self.answer(status, code, message)
        }
        router.get("/health") { _, _ in Self.answer(.ok, "SUCCESS", "ok") }
        return router
    }

    private func receive(channel: String, headers: HTTPFields, body: [UInt8])
        async -> (HTTPResponse.Status, String, String) {
        var log = logger
        log[metadataKey: "channel"] = "\(channel)"
        guard PaymentChannel(rawValue: channel) != nil, let secret = settings.callbackSecret(channel) else {
            log.warning("callback refused: no such channel or no secret configured")
            return (.unauthorized, "FAIL", "unknown channel")
        }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        let nonce = header(CallbackSignature.nonceHeader)
        let verdict = CallbackSignature.verify(
            secret: secret, timestamp: header(CallbackSignature.timestampHeader), nonce: nonce,
            signature: header(CallbackSignature.signatureHeader), body: body)
        guard verdict == .valid, let nonce else {
            log.warning("callback refused: signature check failed", metadata: ["verdict": "\(verdict)"])
            return (.unauthorized, "FAIL", "signature \(verdict)")
        }
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let no = (o["outRequestNo"] as? String).flatMap(UUID.init(uuidString:)),
              let status = o["status"] as? String, ["SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"].contains(status),
              let amount = (o["amountFen"] as? NSNumber)?.int64Value else {
            log.warning("callback refused: malformed body")
            return (.badRequest, "FAIL", "malformed body")
        }
        let logger = log
        do {
            let answer: (HTTPResponse.Status, String, String) = try await pool.withConnection { [handler, schema] db in
                try StageTransaction.run(on: db, schema: schema, logger: logger) { tx in
                    let repo = PayoutRepository(db: tx.db)
                    if let old = try repo.superseded(requestNo: no) {
                        return try Self.superseded(old, no: no, channel: channel, status: status, amount: amount,
                                                   nonce: nonce, repo: repo, tx: tx, logger: logger)
                    }
                    guard let p = try repo.load(requestNo: no) else {
                        return (.notFound, "FAIL", "unknown request number")
                    }
                    guard p.route == channel, p.amount.minorUnits == amount else {
                        logger.error("callback refused: channel or amount does not match the payout",
                                  metadata: ["refund.id": "\(p.refundId)"])
                        return (.conflict, "FAIL", "does not match the payout")
                    }
                    // SUCCESS after the channel had answered that it moved nothing, before the buyer chose another
                    // way: the money did move, so the refund is credited (and no fallback pays it again).
                    let lateSuccess = p.state == "failed" && status == "SUCCESS"
                    let outcome = p.isOpen || lateSuccess
                        ? (status == "PROCESSING" ? "not-final" : "applied") : "duplicate"
                    guard try repo.recordCallback(channel: channel, nonce: nonce, requestNo: no, status: status,
                                                  outcome: outcome) else {
                        logger.warning("callback refused: replayed nonce", metadata: ["refund.id": "\(p.refundId)"])
                        return (.unauthorized, "FAIL", "replayed")
                    }
                    if lateSuccess {
                        logger.warning("the channel confirmed a refund it had reported failed",
                                       metadata: ["refund.id": "\(p.refundId)"])
                        try tx.publishStatus(RefundStatusEvent(
                            refundId: p.refundId, orderId: p.orderId, buyerId: p.buyerId, step: .processing,
                            at: Date(), actor: "channel:\(p.route)",
                            because: .init(.channelConfirmedLate, ["channel": p.route]), amount: p.amount))
                    }
                    if p.isOpen || lateSuccess { try handler.settle(p, status: status, repo: repo, tx: tx) }
                    logger.info("callback accepted", metadata: ["refund.id": "\(p.refundId)", "outcome": "\(outcome)"])
                    return (.ok, "SUCCESS", outcome)
                }
            }
            // Counted once committed.
            if answer.2 == "incident" {
                StageMetrics.incident(kind: RefundIncident.Kind.possibleDoublePayment.rawValue)
            }
            return answer
        } catch {
            log.error("callback failed; the channel will retry", metadata: ["error": "\(error)"])
            return (.internalServerError, "FAIL", "try again")
        }
    }

    /// A callback for a request number a fallback replaced. Only SUCCESS matters: the channel moved money for a
    /// refund that was (or is being) paid another way. That is an incident — recorded once, sent to intake (the
    /// refund flagged `possible_double_payment`, a reviewer ticket), counted — and the callback is answered 200 so
    /// the channel stops retrying: the information has been taken.
    private static func superseded(_ old: PayoutRepository.Superseded, no: UUID, channel: String, status: String,
                                   amount: Int64, nonce: String, repo: PayoutRepository, tx: StageTransaction,
                                   logger: Logger) throws -> (HTTPResponse.Status, String, String) {
        guard old.channel == nil || old.channel == channel, old.amount.minorUnits == amount else {
            logger.error("callback refused: channel or amount does not match the superseded request",
                         metadata: ["refund.id": "\(old.refundId)"])
            return (.conflict, "FAIL", "does not match the payout")
        }
        let isIncident = status == "SUCCESS"
        let outcome = isIncident ? "incident" : "superseded"
        guard try repo.recordCallback(channel: channel, nonce: nonce, requestNo: no, status: status,
                                      outcome: outcome) else {
            return (.unauthorized, "FAIL", "replayed")
        }
        guard isIncident else { return (.ok, "SUCCESS", outcome) }
        let incident = RefundIncident(refundId: old.refundId, kind: .possibleDoublePayment, channel: channel,
                                      requestNo: no.uuidString.lowercased(), amount: old.amount,
                                      paidInstead: old.paidInstead, detectedAt: Date())
        guard try repo.recordIncident(incident) else { return (.ok, "SUCCESS", "duplicate") }
        logger.error("possible double payment: the channel confirmed a superseded request number",
                     metadata: ["refund.id": "\(old.refundId)", "paid.instead": "\(old.paidInstead)"])
        try tx.publish(Topology.Key.refundIncident, Envelope(type: MessageType.refundIncident,
                                                             correlationId: old.refundId.description, payload: incident))
        return (.ok, "SUCCESS", outcome)
    }

    private static func answer(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["code": code, "message": message])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
