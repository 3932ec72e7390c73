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
}

/// Static bearer tokens from `API_TOKENS` ("token1=buyer:b-1,token2=reviewer:r-1"): enough until a marketplace's
/// identity provider is wired in.
struct TokenTable: Sendable {
    let callers: [String: Caller]

    init(_ env: Environment) throws {
        var map: [String: Caller] = [:]
        let raw = env.values["API_TOKENS"] ?? ""
        for entry in raw.split(separator: ",") where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let who = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1) : []
            guard parts.count == 2, parts[0].count >= 8, who.count == 2, !who[1].isEmpty else {
                throw ConfigurationError(setting: "API_TOKENS",
                                         problem: "each entry is token=buyer:<id> or token=reviewer:<id>, tokens of 8+ characters")
            }
            switch who[0] {
            case "buyer": map[String(parts[0])] = .buyer(String(who[1]))
            case "reviewer": map[String(parts[0])] = .reviewer(String(who[1]))
            default: throw ConfigurationError(setting: "API_TOKENS", problem: "role must be buyer or reviewer")
            }
        }
        callers = map
    }

    func caller(_ headers: HTTPFields) throws -> Caller {
        guard let auth = headers[.authorization], auth.hasPrefix("Bearer "),
              let caller = callers[String(auth.dropFirst("Bearer ".count))] else {
            throw APIError(.unauthorized, "unauthorized", "a valid bearer token is required")
        }
        return caller
    }
}
