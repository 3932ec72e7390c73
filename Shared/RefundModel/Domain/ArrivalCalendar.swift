import Foundation

/// When refunded money is expected to arrive, by channel (DOMAIN.md §5), counting working days in the platform's
/// time zone (China: UTC+8, no daylight saving) and skipping weekends and a holiday calendar that is a setting.
///
/// The expected arrival is the latest time the channel promises ("1-3 working days" → the end of the third working
/// day after the payout), so a buyer is never told an earlier time than the channel can keep.
public struct ArrivalCalendar: Sendable {
    /// Holidays as `YYYY-MM-DD` in the platform's time zone.
    public let holidays: Set<String>
    public let utcOffsetSeconds: Int
    /// Each channel's promise; a platform may set its own (`ARRIVAL_TIMES`), the defaults are DOMAIN.md §5's.
    public let promises: [PaymentChannel: Promise]

    public init(holidays: Set<String> = [], utcOffsetSeconds: Int = PlatformTime.utcOffsetSeconds, promises: [PaymentChannel: Promise] = [:]) {
        self.holidays = holidays
        self.utcOffsetSeconds = utcOffsetSeconds
        self.promises = promises
    }

    /// Parses `ARRIVAL_TIMES="alipay=2h,wechat=4h,bank_card=3d,credit_card=5d"` (h: hours, d: working days);
    /// channels not named keep their default. Nil when an entry is malformed.
    public static func promises(setting: String) -> [PaymentChannel: Promise]? {
        var map: [PaymentChannel: Promise] = [:]
        for entry in setting.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let channel = PaymentChannel(rawValue: parts[0]), channel != .balance,
                  let unit = parts[1].last, let n = Int(parts[1].dropLast()), n >= 0, n <= 720 else { return nil }
            switch unit {
            case "h": map[channel] = .hours(Double(n))
            case "d": map[channel] = .workingDays(n)
            default: return nil
            }
        }
        return map
    }

    /// Parses `HOLIDAYS="2026-10-01,2026-10-02"`; nil names the bad entry's position.
    public init?(holidayList: String, utcOffsetSeconds: Int = PlatformTime.utcOffsetSeconds, promises: [PaymentChannel: Promise] = [:]) {
        var set = Set<String>()
        for raw in holidayList.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            let p = raw.split(separator: "-")
            guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
                  p.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
            set.insert(raw)
        }
        self.init(holidays: set, utcOffsetSeconds: utcOffsetSeconds, promises: promises)
    }

    /// The channel's promise: a fixed delay, or a number of working days.
    public enum Promise: Sendable, Equatable {
        case instant
        case hours(Double)
        case workingDays(Int)
    }

    public func promise(for channel: PaymentChannel) -> Promise {
        promises[channel] ?? Self.defaultPromise(for: channel)
    }

    public static func defaultPromise(for channel: PaymentChannel) -> Promise {
        switch channel {
        case .balance: return .instant
        case .alipay: return .hours(2)
        case .wechat: return .hours(4)
        case .bankCard: return .workingDays(3)
        case .creditCard: return .workingDays(5)
        }
    }

    public func expectedArrival(channel: PaymentChannel, paidOutAt: Date) -> Date {
        switch promise(for: channel) {
        case .instant: return paidOutAt
        case .hours(let h): return paidOutAt.addingTimeInterval(h * 3600)
        case .workingDays(let n): return endOfWorkingDay(n, after: paidOutAt)
        }
    }

    public func isWorkingDay(_ date: Date) -> Bool {
        let (key, weekday) = local(date)
        return weekday != 0 && weekday != 6 && !holidays.contains(key)
    }

    /// The end (local midnight) of the `n`-th working day after the day of `date`.
    public func endOfWorkingDay(_ n: Int, after date: Date) -> Date {
        let dayStart = startOfLocalDay(date)
        var day = dayStart
        var counted = 0
        while counted < n {
            day = day.addingTimeInterval(86_400)
            if isWorkingDay(day) { counted += 1 }
        }
        return day.addingTimeInterval(86_400)
    }

    private func startOfLocalDay(_ date: Date) -> Date {
        PlatformTime.startOfDay(date, utcOffsetSeconds: utcOffsetSeconds)
    }

    /// `YYYY-MM-DD` and weekday (0 = Sunday) of `date` in the platform's time zone.
    private func local(_ date: Date) -> (String, Int) {
        (PlatformTime.day(date, utcOffsetSeconds: utcOffsetSeconds),
         Int(PlatformTime.fields(date, utcOffsetSeconds: utcOffsetSeconds).tm_wday))
    }
}
