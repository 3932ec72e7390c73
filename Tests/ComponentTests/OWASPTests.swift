import Foundation
import RefundModel
import Testing

extension Component {
    /// The OWASP API Security Top 10 (2023), walked against the real intake (and payout's callback endpoint): for
    /// each, what an attacker would try and what stops it. Deeper tests of the same defences live beside the feature
    /// (AuthTests, TrustTests, PayoutChannelTests, IntakeAPITests).
    @Suite("OWASP API Top 10 walk")
    struct OWASPTests {
        final class World {
            let s: ServiceProcesses
            let order = TestStack.unique("owasp")
            var refundId = ""

            init() throws {
                s = try ServiceProcesses(["intake", "payout"], env: ["BODY_LIMIT_BYTES": "4096"])
                try IntakeAPITests.place(s, IntakeAPITests.order(order))
                let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1,
                                   body: s.json(IntakeAPITests.applyBody(order)),
                                   headers: ["Idempotency-Key": UUID().uuidString])
                refundId = try #require(r.json["id"] as? String, "\(r.status)")
            }

            func post(_ path: String, _ token: String?, _ body: Any, key: String? = UUID().uuidString)
                throws -> ServiceProcesses.HTTPResult {
                try s.http("POST", path, token: token, body: s.json(body), headers: key.map { ["Idempotency-Key": $0] } ?? [:])
            }
        }

        @Test("the ten, one after another")
        func walk() throws {
            let w = try World()
            defer { w.s.stop() }
            let s = w.s, b1 = IntakeAPITests.b1, b2 = IntakeAPITests.b2, r1 = IntakeAPITests.r1

            // API1 Broken object level authorization: another buyer's refund and order do not exist for b-2.
            #expect(try s.http("GET", "/v1/refunds/\(w.refundId)", token: b2).status == 404)
            let theirs = try s.http("GET", "/v1/refunds?order=\(w.order)", token: b2)
            #expect(theirs.status == 404 || (theirs.json["refunds"] as? [Any])?.isEmpty == true, "\(theirs.status)")
            #expect(try w.post("/v1/refunds/\(w.refundId)/withdraw", b2, [:]).status == 404)
            #expect(try w.post("/v1/refunds", b2, IntakeAPITests.applyBody(w.order)).status == 404)

            // API2 Broken authentication: nothing without a valid credential; the stored digest is not a credential.
            let digest = ServiceProcesses.tokens.split(separator: ",")[0].split(separator: "=")[0].dropFirst("sha256:".count)
            for token in [nil, "", String(digest), b1 + "x"] {
                #expect(try s.http("GET", "/v1/refunds/\(w.refundId)", token: token).status == 401)
            }

            // API3 Broken object property level authorization: no mass assignment, no internal fields shown.
            var forged = IntakeAPITests.applyBody(TestStack.unique("never"))
            forged["state"] = "credited"
            forged["buyerId"] = "b-2"
            #expect(try w.post("/v1/refunds", b1, forged).status == 400)
            let mine = try s.http("GET", "/v1/refunds/\(w.refundId)", token: b1).json
            for field in ["buyerId", "findings", "excludedReviewer"] {
                #expect(mine[field] == nil, "the buyer's view exposes \(field)")
            }

            // API4 Unrestricted resource consumption: size, depth, rate (AuthTests), evidence (AuthTests).
            #expect(try s.http("POST", "/v1/refunds", token: b1, body: Data(repeating: 0x20, count: 10_000),
                               headers: ["Idempotency-Key": "big"]).status == 413)
            let deep = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
            #expect(try s.http("POST", "/v1/refunds", token: b1, body: Data(deep.utf8),
                               headers: ["Idempotency-Key": "deep"]).status == 400)

            // API5 Broken function level authorization: buyers cannot review, reviewers cannot apply.
            #expect(try s.http("GET", "/v1/review/queue", token: b1).status == 403)
            #expect(try w.post("/v1/review/\(w.refundId)/decision", b1, ["decision": "approve"]).status == 403)
            #expect(try w.post("/v1/refunds", r1, IntakeAPITests.applyBody(w.order)).status == 403)

            // API6 Unrestricted access to sensitive business flows: one open refund per line, keys not reusable
            // for another body.
            #expect(try w.post("/v1/refunds", b1, IntakeAPITests.applyBody(w.order)).status == 409)
            let key = UUID().uuidString
            _ = try w.post("/v1/refunds", b1, IntakeAPITests.applyBody(TestStack.unique("k")), key: key)
            #expect(try w.post("/v1/refunds", b1, IntakeAPITests.applyBody(w.order), key: key).status == 409)

            // API7 Server-side request forgery: a URL in evidence is stored as text and never fetched.
            let trap = try Trap()
            let lured = try w.post("/v1/refunds/\(w.refundId)/evidence", b1, ["evidence": [
                ["kind": "order_number", "reference": "http://127.0.0.1:\(trap.port)/latest/meta-data"],
            ]])
            #expect(lured.status == 200 || lured.status == 409, "\(lured.status)")
            #expect(!trap.connected(within: 2), "the service fetched a URL from the request")

            // API8 Security misconfiguration: no method echoes the request, errors carry no internals.
            let trace = try s.http("TRACE", "/v1/refunds", token: b1)
            #expect(!(200..<300).contains(trace.status))
            #expect(!String(decoding: trace.body, as: UTF8.self).contains(b1))
            let broken = try s.http("POST", "/v1/refunds", token: b1, body: Data("{\"orderId\":".utf8),
                                    headers: ["Idempotency-Key": "broken"])
            #expect(broken.status == 400 && broken.errorCode != nil)
            let text = String(decoding: broken.body, as: UTF8.self)
            #expect(!text.contains(".swift") && !text.contains("Fatal") && !text.contains("DecodingError"))

            // API9 Improper inventory management: what is served is documented, nothing else answers.
            let doc = try s.http("GET", "/openapi.json", token: nil).json["paths"] as? [String: Any] ?? [:]
            for path in ["/v1/refunds", "/v1/refunds/{id}", "/v1/refunds/{id}/evidence", "/v1/review/queue",
                         "/v1/review/{id}/decision", "/v1/messages"] {
                #expect(doc[path] != nil, "\(path) is served but not documented")
            }
            for path in ["/v0/refunds", "/admin", "/v1/internal/refunds", "/.env"] {
                #expect(try s.http("GET", path, token: b1).status == 404, "\(path)")
            }

            // API10 Unsafe consumption of APIs: what payout takes from the payment channels must be signed
            // (PayoutChannelTests: forged, stale, replayed, mismatched), from the bus only from the rightful
            // producer (TrustTests), from suppliers only their own answers (SupplierTests).
            let unsigned = try s.http("POST", "http://127.0.0.1:\(s.callbackPort)/v1/channel-callbacks/alipay",
                                      token: nil, body: s.json(["outRequestNo": UUID().uuidString, "status": "SUCCESS",
                                                                "amountFen": 3_000]), absolute: true)
            #expect(unsigned.status == 401)
        }

        /// A listening socket that records whether anyone connected.
        final class Trap {
            let fd: Int32
            let port: Int

            init() throws {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                self.fd = fd
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let ok = withUnsafeMutablePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0
                    }
                }
                port = Int(UInt16(bigEndian: addr.sin_port))
                try #require(ok)
            }

            func connected(within seconds: Double) -> Bool {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                return poll(&p, 1, Int32(seconds * 1000)) > 0
            }

            deinit { close(fd) }
        }
    }
}
