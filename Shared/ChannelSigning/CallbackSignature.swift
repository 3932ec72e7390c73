import COpenSSL
import Foundation

/// The signature a payment channel puts on its asynchronous notifications (callbacks), and how payout checks it.
///
/// Modelled on WeChat Pay v3 notifications: the channel signs `timestamp \n nonce \n body \n` and sends the three in
/// headers; the receiver refuses a bad signature, a timestamp outside the allowed skew, and a nonce it has already
/// seen (a replay). WeChat signs with its platform certificate (RSA); here the channel and the platform share a
/// secret per channel and the signature is HMAC-SHA256 (libcrypto), which keeps the sandbox self-contained.
public enum CallbackSignature {
    public static let timestampHeader = "X-Channel-Timestamp"
    public static let nonceHeader = "X-Channel-Nonce"
    public static let signatureHeader = "X-Channel-Signature"
    /// A callback signed longer ago than this (or this far in the future) is refused.
    public static let allowedSkewSeconds: Int64 = 300

    /// Lower-case hex HMAC-SHA256 of the signed string.
    public static func sign(secret: String, timestamp: Int64, nonce: String, body: [UInt8]) -> String {
        let message = Array("\(timestamp)\n\(nonce)\n".utf8) + body + [0x0A]
        return Digests.hex(Digests.hmacSHA256(key: Array(secret.utf8), message: message))
    }

    public enum Verdict: Equatable, Sendable {
        case valid
        case badSignature
        case stale
        case malformed
    }

    /// Checks the signature (in constant time) and the timestamp's freshness. The nonce's uniqueness is the
    /// receiver's to check, in its database, in the transaction that applies the callback.
    public static func verify(secret: String, timestamp: String?, nonce: String?, signature: String?, body: [UInt8],
                              now: Date = Date()) -> Verdict {
        guard let timestamp, let ts = Int64(timestamp), let nonce, !nonce.isEmpty, nonce.utf8.count <= 64,
              let signature, signature.utf8.count == 64 else { return .malformed }
        guard abs(Int64(now.timeIntervalSince1970) - ts) <= allowedSkewSeconds else { return .stale }
        let expected = Array(sign(secret: secret, timestamp: ts, nonce: nonce, body: body).utf8)
        return Digests.constantTimeEqual(expected, Array(signature.lowercased().utf8)) ? .valid : .badSignature
    }
}
