import Foundation

/// Channels that finance pays in a daily batch at a set local time (DOMAIN.md §5, S0: 17:00 daily) instead of at
/// once. Default: none. Setting format: `bank_card=17:00,credit_card=17:30` (platform time, UTC+8).
public struct BatchWindows: Sendable, Equatable {
    /// Minutes after local midnight, per channel.
    public let minuteOfDay: [PaymentChannel: Int]
    public let utcOffsetSeconds: Int

    public init(minuteOfDay: [PaymentChannel: Int] = [:], utcOffsetSeconds: Int = PlatformTime.utcOffsetSeconds) {
        self.minuteOfDay = minuteOfDay
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Parses the setting; nil when any entry is malformed (unknown channel, time not HH:MM, the balance).
    public init?(setting: String, utcOffsetSeconds: Int = PlatformTime.utcOffsetSeconds) {
        var map: [PaymentChannel: Int] = [:]
        for entry in setting.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let channel = PaymentChannel(rawValue: parts[0]), channel != .balance else {
                return nil
            }
            let hm = parts[1].split(separator: ":").map { Int($0) }
            guard hm.count == 2, let h = hm[0], let m = hm[1], (0..<24).contains(h), (0..<60).contains(m) else {
                return nil
            }
            map[channel] = h * 60 + m
        }
        self.init(minuteOfDay: map, utcOffsetSeconds: utcOffsetSeconds)
    }

    /// When a payout to `channel` created at `now` is sent: `now` for a channel without a batch, else the next
    /// batch time at or after `now`.
    public func sendTime(channel: PaymentChannel, now: Date) -> Date {
        guard let minute = minuteOfDay[channel] else { return now }
        let send = PlatformTime.startOfDay(now, utcOffsetSeconds: utcOffsetSeconds).addingTimeInterval(Double(minute * 60))
        // Compared to the second: a payout created during the batch's own second still goes in today's batch.
        return send.timeIntervalSince1970 < now.timeIntervalSince1970.rounded(.down) ? send.addingTimeInterval(86_400) : send
    }
}
