import Foundation
import HTTPTypes
import HTTPStage
import Hummingbird
import Logging
import NIOCore
import RefundModel

/// The HTTP surface (documented in `openapi.json`, served at `/openapi.json`). Every handler goes through
/// `respond`, which turns errors into the JSON error shape and never lets a request's failure leak details.
struct Routes: Sendable {
    let api: IntakeAPI
    let tokens: TokenTable
    let bodyLimit: Int
    /// Writes (POST) per caller and per address; reads are not limited here.
    let callerLimit: RateLimiter
    let addressLimit: RateLimiter
    let logger = Logger(label: "intake")
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    func build() -> Router<AddressedContext> {
        let router = Router(context: AddressedContext.self)
        // Requests by route, method and status (`refunds_http_requests_total`, `refunds_http_request_duration_seconds`:
        // Hummingbird's names, renamed in `StageMetrics`),
        // into the registry the health port's /metrics prints.
        router.add(middleware: MetricsMiddleware())
        // A known path asked with a method it does not take is 405 with Allow, not 404 (RFC 9110 §15.5.6).
        let methods = RouteMethods()
        router.add(middleware: MethodNotAllowedMiddleware(methods: methods))
        /// Every route goes through here, so the 405 table is the routes themselves.
        func route<R: ResponseGenerator>(_ method: HTTPRequest.Method, _ path: String,
                                         _ handler: @escaping @Sendable (Request, AddressedContext) async throws -> R) {
            methods.add(method, path)
            router.on(RouterPath(path), method: method, use: handler)
        }
        route(.get, "/health") { _, _ in Response(status: .ok) }
        // The reviewer console: a static page that signs in with a reviewer credential and calls this API.
        route(.get, "/console") { _, _ in
            var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
            headers[HTTPField.Name("Content-Security-Policy")!] = ConsolePage.securityPolicy
            headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: ConsolePage.bytes)))
        }
        route(.get, "/openapi.json") { _, _ in
            Self.json(.ok, OpenAPIDocument.bytes)
        }
        route(.post, "/v1/refunds") { request, context in
            await respond(request, context) { caller, body in
                guard let key = request.headers[Self.idempotencyKey], !key.isEmpty, key.count <= 200 else {
                    throw APIError.badRequest("idempotency_key_required", "send an Idempotency-Key header")
                }
                let (status, out) = try await api.apply(caller: caller, idempotencyKey: key, body: body)
                return (HTTPResponse.Status(code: status), out)
            }
        }
        route(.get, "/v1/refunds") { request, context in
            await respond(request, context) { caller, _ in
                guard let order = request.uri.queryParameters.get("order"), !order.isEmpty else {
                    throw APIError.badRequest("missing_field", "query parameter order is required")
                }
                return (.ok, try await api.refunds(caller: caller, orderId: order, locale: Self.locale(request)))
            }
        }
        route(.get, "/v1/refunds/:id") { request, context in
            await respond(request, context) { caller, _ in
                (.ok, try await api.refund(caller: caller, id: context.parameters.get("id") ?? "",
                                           locale: Self.locale(request)))
            }
        }
        for action in ["evidence", "appeal", "withdraw", "fallback"] {
            route(.post, "/v1/refunds/:id/\(action)") { request, context in
                await respond(request, context) { caller, body in
                    (.ok, try await api.buyerAction(caller: caller, id: context.parameters.get("id") ?? "",
                                                   kind: action, body: body))
                }
            }
        }
        route(.post, "/v1/refunds/:id/follow-up") { request, context in
            await respond(request, context) { caller, body in
                (.created, try await api.openTicket(caller: caller, id: context.parameters.get("id") ?? "", body: body))
            }
        }
        route(.get, "/v1/messages") { request, context in
            await respond(request, context) { caller, _ in
                // Absent means 50; present, it must be a whole number (`limit=true` is an error, not the default).
                let raw = request.uri.queryParameters.get("limit")
                let limit = raw.map { Int($0) ?? 0 } ?? 50
                guard (1...200).contains(limit) else {
                    throw APIError.badRequest("invalid_value", "limit must be between 1 and 200")
                }
                return (.ok, try await api.messages(caller: caller, limit: limit))
            }
        }
        route(.get, "/v1/review/tickets") { request, context in
            await respond(request, context) { caller, _ in
                (.ok, try await api.tickets(caller: caller, locale: Self.locale(request)))
            }
        }
        route(.post, "/v1/review/tickets/:id/close") { request, context in
            await respond(request, context) { caller, body in
                (.ok, try await api.closeTicket(caller: caller, id: context.parameters.get("id") ?? "", body: body))
            }
        }
        route(.get, "/v1/analytics/refund-rates") { request, context in
            await respond(request, context) { caller, _ in
                (.ok, try await api.refundRates(caller: caller,
                                                dimension: request.uri.queryParameters.get("dimension")))
            }
        }
        route(.get, "/v1/review/queue") { request, context in
            await respond(request, context) { caller, _ in
                (.ok, try await api.reviewQueue(caller: caller, locale: Self.locale(request)))
            }
        }
        route(.post, "/v1/review/:id/decision") { request, context in
            await respond(request, context) { caller, body in
                (.accepted, try await api.decide(caller: caller, id: context.parameters.get("id") ?? "", body: body))
            }
        }
        return router
    }

    /// Authenticates, reads the body up to the limit, runs `body`, and maps every failure to a JSON error.
    private func respond(_ request: Request, _ context: AddressedContext,
                         _ handler: (Caller, [UInt8]) async throws -> (HTTPResponse.Status, [UInt8])) async -> Response {
        var request = request
        let write = request.method == .post
        do {
            // Per address before authentication (token guessing is a write flood too), per caller after it.
            if write, let wait = addressLimit.take("address:" + context.clientAddress) { throw Self.tooMany(wait) }
            let caller = try await tokens.caller(request.headers)
            if write, let wait = callerLimit.take(caller.key) { throw Self.tooMany(wait) }
            let buffer: ByteBuffer
            do { buffer = try await request.collectBody(upTo: bodyLimit) } catch {
                throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(bodyLimit) bytes")
            }
            let (status, out) = try await handler(caller, Array(buffer.readableBytesView))
            return Self.json(status, out)
        } catch let e as APIError {
            if e.status.code >= 400 && e.status.code < 500 {
                logger.info("request refused", metadata: ["http.path": "\(request.uri.path)", "error.code": "\(e.code)"])
            }
            var response = Self.json(e.status, (try? IntakeAPI.encode(e.body)) ?? [])
            if let wait = e.retryAfterSeconds { response.headers[.retryAfter] = String(wait) }
            return response
        } catch {
            logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            let e = APIError(.serviceUnavailable, "unavailable", "try again shortly")
            return Self.json(e.status, (try? IntakeAPI.encode(e.body)) ?? [])
        }
    }

    /// The reader's language for reasons: Chinese when `Accept-Language` puts a `zh` tag first, English otherwise.
    static func locale(_ request: Request) -> BuyerLocale {
        let first = request.headers[.acceptLanguage]?.split(separator: ",").first?
            .split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return first == "zh" || first.hasPrefix("zh-") ? .zh : .en
    }

    static func tooMany(_ wait: Int) -> APIError {
        var e = APIError(.tooManyRequests, "rate_limited", "too many requests: retry after \(wait) s")
        e.retryAfterSeconds = wait
        return e
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
