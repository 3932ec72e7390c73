import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The methods each route path takes, filled as `Routes.build` registers them (before the server starts; read-only
/// afterwards), so the 405 answer can never disagree with the routes.
final class RouteMethods: @unchecked Sendable {
    private var entries: [(segments: [Substring], methods: Set<HTTPRequest.Method>)] = []

    func add(_ method: HTTPRequest.Method, _ path: String) {
        let segments = path.split(separator: "/")
        if let i = entries.firstIndex(where: { $0.segments == segments }) {
            entries[i].methods.insert(method)
        } else {
            entries.append((segments, [method]))
        }
    }

    /// The methods of the route that matches `path` (`:name` segments match anything), or nil when none does.
    func allowed(for path: String) -> Set<HTTPRequest.Method>? {
        let asked = path.split(separator: "/")
        var found: Set<HTTPRequest.Method>?
        for e in entries where e.segments.count == asked.count
            && zip(e.segments, asked).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) {
            found = (found ?? []).union(e.methods)
        }
        return found
    }
}

/// Turns the router's 404 for a known path into 405 Method Not Allowed with an `Allow` header and the API's JSON
/// error shape (the Allow list is the route's registered methods: HEAD is not among them).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let methods: RouteMethods

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = methods.allowed(for: request.uri.path), !allowed.contains(request.method) else {
                throw error
            }
            let body = #"{"error":{"code":"method_not_allowed","message":"this path takes "#
                + allowed.map(\.rawValue).sorted().joined(separator: ", ") + #""}}"#
            return Response(status: .methodNotAllowed,
                            headers: [.allow: allowed.map(\.rawValue).sorted().joined(separator: ", "),
                                      .contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }
}
