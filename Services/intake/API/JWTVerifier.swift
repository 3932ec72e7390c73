import ChannelSigning
import Foundation
import StageRuntime

/// Verifies the marketplace's signed identity tokens: compact JWS, HS256 only (RFC 7519 / RFC 7515), verified with
/// libcrypto's HMAC and a constant-time compare. No JWT library is in the offline package copies; this is the
/// whole of what is needed, and every check is tested (`AuthTests`).
struct JWTVerifier: Sendable {
    let secret: [UInt8]
    let issuer: String?
    let audience: String?
    /// Clock skew tolerated on `exp` and `nbf`.
    let leewaySeconds: Double = 30

    init?(_ env: Environment) throws {
        guard let raw = env.values["JWT_HS256_SECRET"], !raw.isEmpty else { return nil }
        guard raw.utf8.count >= 32 else {
            throw ConfigurationError(setting: "JWT_HS256_SECRET", problem: "must be at least 32 bytes")
        }
        secret = Array(raw.utf8)
        issuer = env.values["JWT_ISSUER"].flatMap { $0.isEmpty ? nil : $0 }
        audience = env.values["JWT_AUDIENCE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The caller the token names, or nil for anything not valid now.
    func verify(_ token: Substring, now: Date) -> Caller? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
              header["alg"] as? String == "HS256", header["crit"] == nil else { return nil }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard Digests.constantTimeEqual(Digests.hmacSHA256(key: secret, message: signed), signature) else { return nil }
        guard let claims = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any],
              let sub = claims["sub"] as? String, let role = claims["role"] as? String,
              let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp + leewaySeconds > now.timeIntervalSince1970
        else { return nil }
        if let nbf = (claims["nbf"] as? NSNumber)?.doubleValue, nbf - leewaySeconds > now.timeIntervalSince1970 {
            return nil
        }
        if let issuer, claims["iss"] as? String != issuer { return nil }
        if let audience {
            let aud = claims["aud"]
            let audiences = (aud as? [String]) ?? [(aud as? String)].compactMap { $0 }
            guard audiences.contains(audience) else { return nil }
        }
        return Caller(role: Substring(role), id: Substring(sub))
    }
}
