/// Exponential backoff with jitter: each wait is random in [ceiling / 4, ceiling], ceiling = min(cap, base × 2^attempt)
/// — spread enough that a fleet that lost the broker together does not come back together, yet never a near-zero
/// wait that would hammer a server still down (not the AWS blog's "full jitter", whose floor is 0).
public struct Backoff: Sendable {
    public let baseMillis: Int
    public let capMillis: Int
    public private(set) var attempt = 0

    public init(baseMillis: Int = 100, capMillis: Int = 5_000) {
        self.baseMillis = baseMillis
        self.capMillis = capMillis
    }

    public mutating func nextDelayMillis() -> Int {
        let exp = min(attempt, 20)
        attempt += 1
        let ceiling = min(capMillis, baseMillis << exp)
        return Int.random(in: (ceiling / 4)...max(ceiling / 4, ceiling))
    }
}
