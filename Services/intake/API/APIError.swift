import Foundation
import HTTPTypes

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

    var body: [String: [String: String]] { ["error": ["code": code, "message": message]] }
}
