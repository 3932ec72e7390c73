import Foundation
import Hummingbird
import NIOCore

/// A request context that knows the caller's socket address, for per-address limits.
public struct AddressedContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The address without the port (an attacker gets a new port per connection, not a new address).
    public var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}

/// Token buckets by key (a caller, an address): `perMinute` requests a minute on average, bursts up to `perMinute`.
/// In memory, per instance: with N instances a client gets up to N times the limit, so a marketplace that needs one
/// global limit sets it at its gateway too. Keys idle for ten minutes are forgotten, so memory stays bounded by the
/// callers of the last ten minutes.
public final class RateLimiter: @unchecked Sendable {
    public let perMinute: Int
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    private var lastSweep: Double = 0

    public init(perMinute: Int) { self.perMinute = perMinute }

    /// Takes one request from `key`'s bucket: nil when allowed, else the seconds until the next one is.
    public func take(_ key: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        guard perMinute > 0 else { return nil }
        let rate = Double(perMinute) / 60
        lock.lock()
        defer { lock.unlock() }
        if now - lastSweep > 600 {
            buckets = buckets.filter { now - $0.value.at < 600 }
            lastSweep = now
        }
        var b = buckets[key] ?? (Double(perMinute), now)
        b.tokens = min(Double(perMinute), b.tokens + (now - b.at) * rate)
        b.at = now
        defer { buckets[key] = b }
        if b.tokens >= 1 {
            b.tokens -= 1
            return nil
        }
        return max(1, Int(((1 - b.tokens) / rate).rounded(.up)))
    }
}
