import ChannelSigning
import Foundation
import HTTPTypes
import StageRuntime

/// Who is calling: a buyer (acts on their own refunds only) or a reviewer (the review endpoints).
enum Caller: Sendable, Equatable {
    case buyer(String)
    case reviewer(String)

    var key: String {
        switch self {
        case .buyer(let id): return "buyer:\(id)"
        case .reviewer(let id): return "reviewer:\(id)"
        }
    }

    init?(role: Substring, id: Substring) {
        guard !id.isEmpty, id.count <= 200 else { return nil }
        switch role {
        case "buyer": self = .buyer(String(id))
        case "reviewer": self = .reviewer(String(id))
        default: return nil
        }
    }
}

/// The bearer credentials intake accepts. Every refusal is the same 401, whatever was wrong (unknown, expired,
/// tampered, malformed): the answer teaches an attacker nothing.
///
/// - Issued tokens: `API_TOKENS` holds only SHA-256 digests, `sha256:<64 hex>=buyer:<id>[@<expiry>]`, never a token.
///   A token is at least 22 characters (128 bits as `scripts/issue-token` makes them: 32 random bytes, base64url).
///   Rotation: add the new digest, hand out the token, remove the old entry (or let its expiry end it).
/// - The marketplace's own identity: a signed JWT (`JWTVerifier`: HS256 with a shared secret, or RS256/ES256 with
///   the identity provider's public key).
struct TokenTable: Sendable {
    struct Entry: Sendable {
        let caller: Caller
        let expires: Date?
    }

    /// Lower-case hex SHA-256 of the token → who it is.
    let entries: [String: Entry]
    let jwt: JWTVerifier?
    static let minimumTokenLength = 22

    init(_ env: SettingsSource) throws {
        var map: [String: Entry] = [:]
        let raw = env.values["API_TOKENS"] ?? ""
        let problem = "each entry is sha256:<64 hex digits of the token>=buyer:<id> or =reviewer:<id>, optionally "
            + "@<expiry as 2027-01-31 or 2027-01-31T00:00:00Z> (scripts/issue-token makes them)"
        for entry in raw.split(separator: ",") where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].hasPrefix("sha256:") else {
                throw ConfigurationError(setting: "API_TOKENS", problem: problem)
            }
            let digest = parts[0].dropFirst("sha256:".count).lowercased()
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw ConfigurationError(setting: "API_TOKENS", problem: problem)
            }
            let whoAndExpiry = parts[1].split(separator: "@", maxSplits: 1)
            let who = whoAndExpiry[0].split(separator: ":", maxSplits: 1)
            guard who.count == 2, let caller = Caller(role: who[0], id: who[1]) else {
                throw ConfigurationError(setting: "API_TOKENS", problem: problem)
            }
            var expires: Date?
            if whoAndExpiry.count == 2 {
                guard let e = Self.parseExpiry(String(whoAndExpiry[1])) else {
                    throw ConfigurationError(setting: "API_TOKENS", problem: problem)
                }
                expires = e
            }
            map[digest] = Entry(caller: caller, expires: expires)
        }
        entries = map
        jwt = try JWTVerifier(env)
    }

    static func parseExpiry(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle().parse(text) { return d }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }

    static let unauthorized = APIError(.unauthorized, "unauthorized", "a valid bearer token is required")

    func caller(_ headers: HTTPFields, now: Date = Date()) async throws -> Caller {
        guard let auth = headers[.authorization], auth.hasPrefix("Bearer "), auth.utf8.count <= 8_192 else {
            throw Self.unauthorized
        }
        let token = auth.dropFirst("Bearer ".count)
        if token.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            guard let jwt, let caller = await jwt.verify(token) else { throw Self.unauthorized }
            return caller
        }
        guard token.count >= Self.minimumTokenLength,
              let entry = entries[Digests.hex(Digests.sha256(Array(token.utf8)))],
              entry.expires.map({ $0 > now }) ?? true else {
            throw Self.unauthorized
        }
        return entry.caller
    }
}
