import ChannelSigning
import Foundation
import HTTPStage
import Hummingbird
import HummingbirdTesting
@testable import Intake
import StageRuntime
import Testing

/// Intake's HTTP surface in process, through Hummingbird's test client (as hummingbird-examples' todos do): the
/// routing, authentication, method and body checks that answer before any repository is asked. The database pool
/// points nowhere, so a request that reached it would fail the test; the real-process API tests
/// (ComponentTests/IntakeAPITests) cover what lies behind.
@Suite("Intake's HTTP surface, in process")
struct IntakeHTTPTests {
    static let buyer = "buyer-token-in-process-0001", reviewer = "reviewer-token-in-process-0001"

    func app() throws -> some ApplicationProtocol {
        func entry(_ token: String, _ who: String) -> String {
            "sha256:" + Digests.hex(Digests.sha256(Array(token.utf8))) + "=" + who
        }
        let tokens = try TokenTable(SettingsSource(["API_TOKENS": entry(Self.buyer, "buyer:b-1") + ","
                                                        + entry(Self.reviewer, "reviewer:r-1")]))
        let nowhere = DatabasePool(url: "postgres://nobody:none@127.0.0.1:1/none", schema: "intake", size: 1,
                                   name: "in-process-test")
        let routes = Routes(api: IntakeAPI(pool: nowhere, schema: "intake"), tokens: tokens, bodyLimit: 4_096,
                            callerLimit: RateLimiter(perMinute: 600), addressLimit: RateLimiter(perMinute: 600))
        return Application(router: routes.build())
    }

    func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
    }

    @Test("the OpenAPI document and the console are served")
    func documents() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                #expect(r.status == .ok)
                #expect((json(r.body)["openapi"] as? String)?.hasPrefix("3.") == true)
            }
            try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    @Test("no token, an unknown token, the wrong role")
    func authentication() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/refunds/\(UUID())", method: .get) { r in
                #expect(r.status == .unauthorized)
                #expect((json(r.body)["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            }
            try await client.execute(uri: "/v1/refunds/\(UUID())", method: .get,
                                     headers: [.authorization: "Bearer not-a-known-token-at-all-0000"]) { r in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/review/queue", method: .get,
                                     headers: [.authorization: "Bearer \(Self.buyer)"]) { r in
                #expect(r.status == .forbidden)
            }
        }
    }

    @Test("a method the path does not take is 405 with Allow; an unknown path 404")
    func methods() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/v1/refunds", method: .delete,
                                     headers: [.authorization: "Bearer \(Self.buyer)"]) { r in
                #expect(r.status == .methodNotAllowed)
                #expect(r.headers[.allow]?.contains("POST") == true)
            }
            try await client.execute(uri: "/v1/nothing-here", method: .get,
                                     headers: [.authorization: "Bearer \(Self.buyer)"]) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test("bodies: too large is 413, malformed is 400, both before any database")
    func bodies() async throws {
        try await app().test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer \(Self.buyer)", .contentType: "application/json",
                                    Routes.idempotencyKey: "k-1"]
            try await client.execute(uri: "/v1/refunds", method: .post, headers: auth,
                                     body: ByteBuffer(string: "{\"note\": \"" + String(repeating: "x", count: 5_000) + "\"}")) { r in
                #expect(r.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/refunds", method: .post, headers: auth, body: ByteBuffer(string: "{")) { r in
                #expect(r.status == .badRequest)
                #expect((json(r.body)["error"] as? [String: Any])?["code"] as? String == "malformed_json")
            }
            var noKey = auth
            noKey[Routes.idempotencyKey] = nil
            try await client.execute(uri: "/v1/refunds", method: .post, headers: noKey, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status == .badRequest)
            }
        }
    }
}
