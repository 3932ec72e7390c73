import Foundation
import ChannelSigning
import JWTKit
import StageRuntime

/// Verifies the marketplace's signed identity tokens with jwt-kit (a maintained JWS library): HS256 with a shared
/// secret (`JWT_HS256_SECRET`, at least 32 bytes), or RS256/ES256 with the identity provider's public key
/// (`JWT_PUBLIC_KEY_FILE`, PEM). Claims: `sub` (the buyer or reviewer id), `role` (`buyer` or `reviewer`), `exp`
/// (required); `nbf` when present; `iss` and `aud` when `JWT_ISSUER` / `JWT_AUDIENCE` are set. A token signed with
/// any other algorithm than the configured key's (`none` included) does not verify.
struct JWTVerifier: Sendable {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var role: String
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?

        /// Clock skew tolerated on `exp` and `nbf`.
        static let leeway: TimeInterval = 30

        func verify(using _: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-Self.leeway))
            try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(Self.leeway))
        }
    }

    enum Key: Sendable {
        case hmac(String)
        case rsa(Insecure.RSA.PublicKey)
        case ecdsa(ES256PublicKey)
    }

    /// jwt-kit's key collection is an actor filled asynchronously; settings are read synchronously at start-up, so
    /// the collection is built on first use.
    actor Keys {
        let key: Key
        private var collection: JWTKeyCollection?
        init(_ key: Key) { self.key = key }

        func get() async -> JWTKeyCollection {
            if let collection { return collection }
            let c = JWTKeyCollection()
            switch key {
            case .hmac(let secret): await c.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            case .rsa(let rsa): await c.add(rsa: rsa, digestAlgorithm: .sha256)
            case .ecdsa(let ec): await c.add(ecdsa: ec)
            }
            collection = c
            return c
        }
    }

    let keys: Keys
    let issuer: String?
    let audience: String?

    init?(_ env: SettingsSource) throws {
        let secret = env.values["JWT_HS256_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        let publicKeyFile = env.values["JWT_PUBLIC_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let secret {
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(setting: "JWT_HS256_SECRET", problem: "must be at least 32 bytes")
            }
            keys = Keys(.hmac(secret))
        } else if let publicKeyFile {
            guard let pem = try? String(contentsOfFile: publicKeyFile, encoding: .utf8) else {
                throw ConfigurationError(setting: "JWT_PUBLIC_KEY_FILE", problem: "cannot read \(publicKeyFile)")
            }
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                keys = Keys(.rsa(rsa))
            } else if let ec = try? ES256PublicKey(pem: pem) {
                keys = Keys(.ecdsa(ec))
            } else {
                throw ConfigurationError(setting: "JWT_PUBLIC_KEY_FILE",
                                         problem: "not an RSA (2048+ bits) or P-256 public key in PEM")
            }
        } else {
            return nil
        }
        issuer = env.values["JWT_ISSUER"].flatMap { $0.isEmpty ? nil : $0 }
        audience = env.values["JWT_AUDIENCE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The algorithm a token must name: jwt-kit verifies with the configured key's algorithm whatever the header
    /// says, and a header that names another one is refused here too (RFC 8725 §3.1: check the algorithm).
    var algorithm: String {
        switch keys.key {
        case .hmac: return "HS256"
        case .rsa: return "RS256"
        case .ecdsa: return "ES256"
        }
    }

    /// The caller the token names, or nil for anything not valid now.
    func verify(_ token: Substring) async -> Caller? {
        guard let first = token.split(separator: ".", maxSplits: 1).first, let header = Base64URL.decode(first),
              let fields = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any],
              fields["alg"] as? String == algorithm else { return nil }
        guard let claims = try? await keys.get().verify(Array(token.utf8), as: Claims.self) else { return nil }
        if let issuer, claims.iss?.value != issuer { return nil }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) { return nil }
        return Caller(role: Substring(claims.role), id: Substring(claims.sub.value))
    }
}
