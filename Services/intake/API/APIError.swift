import Foundation
import HTTPTypes
import RefundModel

/// Every refusal of the API: an HTTP status, a stable machine-readable code, and a message for humans.
/// Sent as `{"error": {"code": …, "message": …}}`.
struct APIError: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// 429: when to try again (the `Retry-After` header).
    var retryAfterSeconds: Int?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }
    static func unprocessable(_ code: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code, message)
    }
    static func conflict(_ code: String, _ message: String) -> APIError { APIError(.conflict, code, message) }
    static func notFound(_ code: String, _ message: String) -> APIError { APIError(.notFound, code, message) }
    /// An earlier action on the refund is still being applied downstream: this one could not take effect.
    static func tooLate(_ pending: String, state: RefundState) -> APIError {
        APIError(.conflict, "too_late", "a \(pending) is being applied to this refund (now \(state.rawValue)); look again shortly")
    }

    var body: [String: [String: String]] { ["error": ["code": code, "message": message]] }
}
