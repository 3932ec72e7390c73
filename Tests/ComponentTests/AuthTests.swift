import ChannelSigning
import Foundation
import RefundModel
import Testing

extension Component {
    /// Issue 11 §3: credentials stored hashed with an expiry, the marketplace's signed identity, rate limits on every
    /// write, limits on evidence. Against the real intake and payout processes.
    @Suite("Credentials, rate limits and evidence limits")
    struct AuthTests {
        static let secret = "jwt-test-secret-of-at-least-thirty-two-bytes"

        /// A compact HS256 JWT (what a marketplace's identity provider would issue).
        static func jwt(_ claims: [String: Any], alg: String = "HS256", secret: String = secret) -> String {
            let header = Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: ["alg": alg, "typ": "JWT"])))
            let payload = Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: claims)))
            let signed = header + "." + payload
            let signature = alg == "none" ? "" : Base64URL.encode(Digests.hmacSHA256(key: Array(secret.utf8),
                                                                                    message: Array(signed.utf8)))
            return signed + "." + signature
        }

        @Test("unknown, short, expired and tampered credentials get one and the same 401; valid ones pass")
        func credentials() throws {
            let now = Date().timeIntervalSince1970
            let expired = "an-expired-token-of-enough-length"
            let short = "short-tok"
            let tokens = ServiceProcesses.tokens + "," + TestStack.tokenEntries([
                (expired, "buyer:b-1@2020-01-01"), (short, "buyer:b-1"),
            ])
            let s = try ServiceProcesses(["intake"], env: [
                "API_TOKENS": tokens, "JWT_HS256_SECRET": Self.secret, "JWT_AUDIENCE": "refunds",
            ])
            defer { s.stop() }
            let good: [String: Any] = ["sub": "b-1", "role": "buyer", "exp": now + 600, "aud": "refunds"]
            #expect(try s.http("GET", "/v1/messages", token: IntakeAPITests.b1).status == 200)
            #expect(try s.http("GET", "/v1/messages", token: Self.jwt(good)).status == 200)
            var reviewer = good
            reviewer["role"] = "reviewer"
            #expect(try s.http("GET", "/v1/review/queue", token: Self.jwt(reviewer)).status == 200)
            #expect(try s.http("GET", "/v1/review/queue", token: Self.jwt(good)).status == 403, "a buyer is no reviewer")

            var expiredClaims = good
            expiredClaims["exp"] = now - 3600
            var wrongAudience = good
            wrongAudience["aud"] = "someone-else"
            var noExpiry = good
            noExpiry.removeValue(forKey: "exp")
            let valid = Self.jwt(good)
            let parts = valid.split(separator: ".")
            var escalated = good
            escalated["role"] = "reviewer"
            let tampered = parts[0] + "." + Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: escalated)))
                + "." + parts[2]
            let refused: [(String, String?)] = [
                ("no token", nil), ("unknown", "a-token-nobody-was-ever-issued-x"), ("expired", expired),
                ("shorter than 128 bits", short), ("expired JWT", Self.jwt(expiredClaims)),
                ("JWT for another audience", Self.jwt(wrongAudience)), ("JWT without exp", Self.jwt(noExpiry)),
                ("JWT signed with another key", Self.jwt(good, secret: "another-secret-of-thirty-two-bytes-x")),
                ("alg none", Self.jwt(good, alg: "none")), ("alg HS512", Self.jwt(good, alg: "HS512")),
                ("tampered payload", String(tampered)), ("garbage", "a.b.c"),
            ]
            var bodies = Set<String>()
            for (what, token) in refused {
                let r = try s.http("GET", "/v1/messages", token: token)
                #expect(r.status == 401, "\(what): \(r.status)")
                bodies.insert(String(decoding: r.body, as: UTF8.self))
            }
            #expect(bodies.count == 1, "every refusal looks the same: \(bodies)")
            #expect(!s.log("intake").contains(IntakeAPITests.b1), "a token reached the log")
        }

        @Test("a burst of writes past the limit gets 429 with Retry-After and writes nothing; per address too")
        func rateLimits() throws {
            // A buyer of its own, so these applications count in no other test's risk window.
            let buyer = TestStack.unique("b-rate"), token = "buyer-token-rate-test-credential"
            let s = try ServiceProcesses(["intake"], env: [
                "RATE_LIMIT_WRITES_PER_MINUTE": "3", "RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE": "8",
                "API_TOKENS": ServiceProcesses.tokens + "," + TestStack.tokenEntries([(token, "buyer:\(buyer)")]),
            ])
            defer { s.stop() }
            var orders: [String] = []
            for i in 0..<4 {
                let o = TestStack.unique("rate\(i)")
                try IntakeAPITests.place(s, IntakeAPITests.order(o, buyer: buyer))
                orders.append(o)
            }
            var statuses: [Int] = []
            var retryAfter: String?
            for o in orders {
                let r = try s.http("POST", "/v1/refunds", token: token, body: s.json(IntakeAPITests.applyBody(o)),
                                   headers: ["Idempotency-Key": UUID().uuidString])
                statuses.append(r.status)
                if r.status == 429 { retryAfter = r.headers["Retry-After"] }
            }
            #expect(statuses == [201, 201, 201, 429], "\(statuses)")
            #expect(Int(retryAfter ?? "") ?? 0 >= 1)
            #expect(try IntakeAPITests.rowCount(order: orders[3]) == 0, "the refused request wrote nothing")
            // Reads are not writes.
            #expect(try s.http("GET", "/v1/messages", token: token).status == 200)
            // Per address, even without a valid token (guessing tokens is a flood too): 8 allowed, 4 used above.
            var unauthenticated: [Int] = []
            for _ in 0..<6 {
                unauthenticated.append(try s.http("POST", "/v1/refunds", token: "guess-\(UUID().uuidString)",
                                                  body: s.json([:])).status)
            }
            #expect(unauthenticated == [401, 401, 401, 401, 429, 429], "\(unauthenticated)")
        }

        @Test("evidence past its item count (422) or size (413) is refused and leaves the refund as it was")
        func evidenceLimits() throws {
            let s = try ServiceProcesses(["intake"], env: ["EVIDENCE_MAX_ITEMS": "3", "EVIDENCE_MAX_BYTES": "2048"])
            defer { s.stop() }
            let o = TestStack.unique("evid")
            try IntakeAPITests.place(s, IntakeAPITests.order(o))
            func item(_ text: String) -> [String: Any] { ["kind": "order_number", "text": text] }
            let four = ["evidence": (0..<4).map { item("item \($0)") }] as [String: Any]
            var body = IntakeAPITests.applyBody(o)
            body["evidence"] = four["evidence"]
            let tooMany = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1, body: s.json(body),
                                     headers: ["Idempotency-Key": UUID().uuidString])
            #expect(tooMany.status == 422 && tooMany.errorCode == "too_many_evidence_items", "\(tooMany.status)")
            body["evidence"] = [item("the first"), item("the second")]
            let r = try s.http("POST", "/v1/refunds", token: IntakeAPITests.b1, body: s.json(body),
                               headers: ["Idempotency-Key": UUID().uuidString])
            let id = try #require(r.json["id"] as? String, "\(r.status)")
            let big = try s.http("POST", "/v1/refunds/\(id)/evidence", token: IntakeAPITests.b1,
                                 body: s.json(["evidence": [item(String(repeating: "证", count: 700))]]))
            #expect(big.status == 413 && big.errorCode == "evidence_too_large", "\(big.status)")
            let more = try s.http("POST", "/v1/refunds/\(id)/evidence", token: IntakeAPITests.b1,
                                  body: s.json(["evidence": [item("third"), item("fourth")]]))
            #expect(more.status == 422, "\(more.status)")
            let db = try TestStack.database()
            defer { db.close() }
            let stored = try db.query("SELECT jsonb_array_length(evidence) AS n FROM intake.refunds WHERE refund_id = $1::uuid",
                                      [id])[0].int("n")
            #expect(stored == 2)
        }

        @Test("channel callbacks past the per-address limit get 429 before any work")
        func callbackLimit() throws {
            let s = try ServiceProcesses(["payout"], env: ["CALLBACK_RATE_LIMIT_PER_MINUTE": "3",
                                                           "CHANNEL_SECRETS": "*=callback-secret-0123456789"])
            defer { s.stop() }
            var statuses: [Int] = []
            for _ in 0..<5 {
                statuses.append(try s.http("POST", "http://127.0.0.1:\(s.callbackPort)/v1/channel-callbacks/alipay",
                                           token: nil, body: Data("{}".utf8), absolute: true).status)
            }
            #expect(statuses == [401, 401, 401, 429, 429], "\(statuses)")
        }
    }
}

extension Component.AuthTests {
    /// Signs `claims` as RS256 with the private key at `keyPath`, using the openssl command (as an identity provider
    /// would with its own key).
    static func rs256(_ claims: [String: Any], keyPath: String) throws -> String {
        let header = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: ["alg": "RS256", "typ": "JWT"])))
        let payload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
        let input = NSTemporaryDirectory() + "jwt-\(UUID().uuidString.prefix(6))"
        try Data((header + "." + payload).utf8).write(to: URL(fileURLWithPath: input))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["dgst", "-sha256", "-sign", keyPath, input]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let signature = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return header + "." + payload + "." + Base64URL.encode(Array(signature))
    }

    @Test("an identity provider's RS256 tokens verify with its public key; an HS256 token keyed with that public key does not")
    func rs256() throws {
        let dir = NSTemporaryDirectory() + "idp-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = dir + "/idp.key", pub = dir + "/idp.pub"
        #expect(try TestStack.run("/usr/bin/openssl", ["genrsa", "-out", key, "2048"]).status == 0)
        #expect(try TestStack.run("/usr/bin/openssl", ["rsa", "-in", key, "-pubout", "-out", pub]).status == 0)
        let s = try ServiceProcesses(["intake"], env: ["JWT_PUBLIC_KEY_FILE": pub, "JWT_ISSUER": "https://idp.example"])
        defer { s.stop() }
        let claims: [String: Any] = ["sub": "b-1", "role": "buyer", "exp": Date().timeIntervalSince1970 + 600,
                                     "iss": "https://idp.example"]
        #expect(try s.http("GET", "/v1/messages", token: try Self.rs256(claims, keyPath: key)).status == 200)
        var otherIssuer = claims
        otherIssuer["iss"] = "https://evil.example"
        #expect(try s.http("GET", "/v1/messages", token: try Self.rs256(otherIssuer, keyPath: key)).status == 401)
        // The classic algorithm confusion: HS256 "signed" with the public key as the shared secret.
        let confused = Self.jwt(claims, secret: try String(contentsOfFile: pub, encoding: .utf8))
        #expect(try s.http("GET", "/v1/messages", token: confused).status == 401)
    }
}

extension Component.AuthTests {
    @Test("refundctl tokens issue: a 256-bit token whose API_TOKENS entry intake accepts, with its expiry; a bad role is refused")
    func issuedToken() throws {
        let issued = try TestStack.run(TestStack.binPath + "/refundctl",
                                       ["tokens", "issue", "buyer", "b-issued", "--expires", "2099-01-31", "--json"])
        #expect(issued.status == 0, "\(issued.output)")
        let json = (try? JSONSerialization.jsonObject(with: Data(issued.output.utf8))) as? [String: String] ?? [:]
        let token = try #require(json["token"], "\(issued.output)"), entry = try #require(json["entry"])
        #expect(token.count == 43, "32 bytes, base64url without padding: \(token)")
        #expect(entry.hasSuffix("=buyer:b-issued@2099-01-31") && entry.hasPrefix("sha256:"), "\(entry)")
        let s = try ServiceProcesses(["intake"], env: ["API_TOKENS": ServiceProcesses.tokens + "," + entry])
        defer { s.stop() }
        #expect(try s.http("GET", "/v1/messages", token: token).status == 200, "the issued token is accepted")
        #expect(try s.http("GET", "/v1/messages", token: String(token.dropLast()) + "x").status == 401)
        let refused = try TestStack.run(TestStack.binPath + "/refundctl", ["tokens", "issue", "admin", "x"])
        #expect(refused.status == 64, "usage: \(refused.output)")
    }
}

extension Component.AuthTests {
    @Test("a known path asked with a method it does not take is 405 with Allow and the JSON error; an unknown path is 404")
    func methodNotAllowed() throws {
        let s = try ServiceProcesses(["intake"])
        defer { s.stop() }
        let base = "http://127.0.0.1:\(s.httpPort)"
        // curl, not URLSession: TRACE is sent as it is, whatever a client library thinks of it.
        for (method, path, allow) in [("TRACE", "/v1/refunds", "GET, POST"), ("DELETE", "/v1/refunds/\(UUID())", "GET"),
                                      ("PUT", "/v1/review/queue", "GET"), ("GET", "/v1/review/x/decision", "POST")] {
            let r = try TestStack.run("/usr/bin/curl", ["-s", "-i", "-X", method, base + path])
            #expect(r.output.hasPrefix("HTTP/1.1 405"), "\(method) \(path): \(r.output.prefix(200))")
            #expect(r.output.lowercased().contains("allow: \(allow.lowercased())"), "\(method) \(path): \(r.output)")
            #expect(r.output.contains(#""code":"method_not_allowed""#))
        }
        #expect(try s.http("GET", "/v1/nothing-here", token: Component.IntakeAPITests.b1).status == 404)
        #expect(try s.http("GET", "/v1/refunds/\(UUID())", token: Component.IntakeAPITests.b1).status == 404, "routes still route")
    }
}
