import Foundation

/// The platform's clock: China time (UTC+8, no daylight saving). One home for "which local day is it" and for how
/// a time is shown to a buyer, so the arrival calendar, batch windows and messages always agree.
public enum PlatformTime {
    public static let utcOffsetSeconds = 8 * 3600

    /// Local midnight that starts the day of `date`.
    public static func startOfDay(_ date: Date, utcOffsetSeconds: Int = utcOffsetSeconds) -> Date {
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + utcOffsetSeconds
        let midnight = local - ((local % 86_400) + 86_400) % 86_400
        return Date(timeIntervalSince1970: Double(midnight - utcOffsetSeconds))
    }

    /// The calendar fields of `date` in local time (`tm_wday` 0 = Sunday).
    public static func fields(_ date: Date, utcOffsetSeconds: Int = utcOffsetSeconds) -> tm {
        var t = time_t(Int(date.timeIntervalSince1970.rounded(.down)) + utcOffsetSeconds)
        var fields = tm()
        gmtime_r(&t, &fields)
        return fields
    }

    /// `YYYY-MM-DD`, the key of the holiday calendar.
    public static func day(_ date: Date, utcOffsetSeconds: Int = utcOffsetSeconds) -> String {
        let f = fields(date, utcOffsetSeconds: utcOffsetSeconds)
        return String(format: "%04d-%02d-%02d", Int(f.tm_year) + 1900, Int(f.tm_mon) + 1, Int(f.tm_mday))
    }

    /// `YYYY-MM-DD HH:MM`, as buyers read times in explanations and messages.
    public static func display(_ date: Date, utcOffsetSeconds: Int = utcOffsetSeconds) -> String {
        let f = fields(date, utcOffsetSeconds: utcOffsetSeconds)
        return day(date, utcOffsetSeconds: utcOffsetSeconds) + String(format: " %02d:%02d", Int(f.tm_hour), Int(f.tm_min))
    }

    /// An instant as explanations carry it (ISO 8601 UTC with milliseconds), and back.
    public static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
