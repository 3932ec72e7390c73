/// Who may publish what on `refund.events` (ARCHITECTURE.md, "What a stage may accept from the bus: who sent it").
///
/// The message catalogue (`MessageCatalogue`) is the one place that says it; this table is read from it, and three
/// things derive from the table and must never disagree:
/// - the broker's topic permissions: each AMQP user may publish only its own routing keys
///   (`scripts/stack` and the container provisioning read `Tools/provisioning/topic-permissions.tsv`, which a unit
///   test keeps equal to `Producers.topicPermissions()`);
/// - the outbox relay stamps every message with its service's AMQP user as `user_id`, which RabbitMQ validates
///   against the connection's login;
/// - every consumer refuses, before its handler runs, a message whose validated publisher is not the producer its
///   routing key allows: it is dead-lettered as "forged" and counted, never acted on.
public enum Producer: Hashable, Sendable, CustomStringConvertible {
    /// The marketplace's own systems: order facts and buyer profiles.
    case marketplace
    /// Any supplier's system, each with its own AMQP user (`supplier.<id>`); which refund a supplier may answer is
    /// the supplier-verification stage's check.
    case supplier
    case service(ServiceName)

    /// The AMQP user name of a marketplace.
    public static let marketplaceUser = "marketplace"
    /// Supplier users live under this prefix. Service users are kebab names without dots, so no supplier id can
    /// ever name a service's user (a supplier called `verification` is `supplier.verification`).
    public static let supplierUserPrefix = "supplier."

    /// Whether `user` (the publisher RabbitMQ validated) is this producer.
    public func matches(user: String) -> Bool {
        switch self {
        case .marketplace: return user == Self.marketplaceUser
        case .supplier: return user.hasPrefix(Self.supplierUserPrefix) && user.count > Self.supplierUserPrefix.count
        case .service(let s): return user == s.amqpUser
        }
    }

    public var description: String {
        switch self {
        case .marketplace: return Self.marketplaceUser
        case .supplier: return "a supplier"
        case .service(let s): return s.rawValue
        }
    }
}

extension ServiceName {
    /// The AMQP user a service logs in as (and stamps as `user_id`): its kebab name.
    public var amqpUser: String { rawValue }
}

public enum Producers {
    /// Routing key (exact, or with `*` for one word) → the producers that may publish it: the message catalogue's
    /// rows. Status steps are listed one by one: `refund.status.credited` only from payout, and so on.
    public static let table: [(key: String, producers: Set<Producer>)] =
        MessageCatalogue.kinds.map { ($0.routingKey, $0.producers) }

    /// Exact keys by name, built once: the check runs for every delivery.
    static let exact: [String: Set<Producer>] = Dictionary(
        table.filter { !$0.key.contains("*") }.map { ($0.key, $0.producers) }) { a, _ in a }
    static let patterns = table.filter { $0.key.contains("*") }

    /// The producers allowed for a routing key; nil for a key the table does not know (never acted on either).
    public static func allowed(routingKey: String) -> Set<Producer>? {
        if let producers = exact[routingKey] { return producers }
        for row in patterns where matches(pattern: row.key, routingKey) { return row.producers }
        return nil
    }

    /// Why a message may not be acted on, or nil when its publisher is the rightful producer of its routing key.
    public static func refusal(routingKey: String, validatedUser: String?) -> String? {
        guard let allowed = allowed(routingKey: routingKey) else {
            return "forged: no producer may publish \(routingKey)"
        }
        guard let user = validatedUser, !user.isEmpty else {
            return "forged: \(routingKey) without a validated publisher (user_id)"
        }
        guard allowed.contains(where: { $0.matches(user: user) }) else {
            let who = allowed.map(\.description).sorted().joined(separator: " or ")
            return "forged: \(routingKey) published by \(user), only \(who) may"
        }
        return nil
    }

    /// The topic-permission write pattern (an anchored regular expression) of every AMQP user that publishes on
    /// `refund.events`, suppliers as the pattern for any one supplier. Sorted for a stable file.
    public static func topicPermissions() -> [(user: String, write: String)] {
        var keysByUser: [String: [String]] = [:]
        for row in table {
            for p in row.producers {
                let user: String
                switch p {
                case .marketplace: user = Producer.marketplaceUser
                case .supplier: user = Producer.supplierUserPrefix + "*"
                case .service(let s): user = s.amqpUser
                }
                keysByUser[user, default: []].append(regex(row.key))
            }
        }
        return keysByUser.keys.sorted().map { ($0, "^(" + keysByUser[$0]!.sorted().joined(separator: "|") + ")$") }
    }

    /// `a.b.*` matches `a.b.c` (one more word, like a topic binding's `*`).
    public static func matches(pattern: String, _ key: String) -> Bool {
        if pattern.hasSuffix(".*") {
            let stem = pattern.dropLast(1)
            return key.hasPrefix(stem) && !key.dropFirst(stem.count).isEmpty
                && !key.dropFirst(stem.count).contains(".")
        }
        if pattern.contains("*") {  // `supplier.*.request`: one word in the middle
            let parts = pattern.split(separator: "*", maxSplits: 1)
            guard parts.count == 2, key.hasPrefix(parts[0]), key.hasSuffix(parts[1]) else { return false }
            let middle = key.dropFirst(parts[0].count).dropLast(parts[1].count)
            return !middle.isEmpty && !middle.contains(".")
        }
        return pattern == key
    }

    static func regex(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: ".", with: "\\.").replacingOccurrences(of: "*", with: "[^.]+")
    }
}

extension RefundState {
    /// The services that publish this step (`refund.status.<step>`).
    public var producers: [ServiceName] {
        switch self {
        case .submitted, .needsEvidence, .manualReview, .rejected, .appealed, .approved, .withdrawn:
            return [.autoReview]
        // After an appeal (auto-review), a supplier's log the buyer cannot answer (supplier-verification), or a
        // refund payout's own order record does not allow (payout).
        case .rejectedFinal: return [.autoReview, .supplierVerification, .payout]
        case .supplierVerification, .disputed: return [.supplierVerification]
        // Arbitration decided for the buyer (supplier-verification), then the channel's own steps (payout).
        case .processing: return [.supplierVerification, .payout]
        case .payoutFailed, .credited: return [.payout]
        }
    }
}
