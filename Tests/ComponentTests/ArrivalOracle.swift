import Foundation

/// Arrival and batch times worked out here, by hand, with Foundation's calendar in the platform's zone (UTC+8), not
/// with `ArrivalCalendar` or `BatchWindows`: a test that asks the production calculation what to expect cannot catch
/// it being wrong. The unit tier checks those two against dates written out; this oracle serves the live tests,
/// whose "now" is the clock's.
enum ArrivalOracle {
    static let platform: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        return c
    }()

    /// The end (next midnight, UTC+8) of the `n`-th weekday after `from`'s own day. No holidays: the tests' stacks
    /// configure none.
    static func workingDays(_ n: Int, after from: Date) -> Date {
        var day = platform.startOfDay(for: from)
        var left = n
        while left > 0 {
            day = platform.date(byAdding: .day, value: 1, to: day)!
            let weekday = platform.component(.weekday, from: day)  // 1 Sunday … 7 Saturday
            if weekday != 1 && weekday != 7 { left -= 1 }
        }
        return platform.date(byAdding: .day, value: 1, to: day)!
    }

    /// The next `hour:minute` (UTC+8) at or after `now`.
    static func next(hour: Int, minute: Int, after now: Date) -> Date {
        let today = platform.date(bySettingHour: hour, minute: minute, second: 0, of: now)!
        return today >= now ? today : platform.date(byAdding: .day, value: 1, to: today)!
    }

    /// The expected arrival of a refund paid out `at` through `channel` under the default promises (DOMAIN.md §5:
    /// Alipay 2 h, WeChat 4 h, bank card 3 working days, credit card 5).
    static func defaultArrival(_ channel: String, paidOutAt at: Date) -> Date {
        switch channel {
        case "alipay": return at.addingTimeInterval(2 * 3600)
        case "wechat": return at.addingTimeInterval(4 * 3600)
        case "bank_card": return workingDays(3, after: at)
        case "credit_card": return workingDays(5, after: at)
        default: return at
        }
    }

    /// `key=value` out of a comma-separated profile setting (`bank_card=5d, alipay=2h`), read here by hand.
    static func entry(_ setting: String?, _ key: String) -> String? {
        for part in (setting ?? "").split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0] == key { return kv[1] }
        }
        return nil
    }
}
