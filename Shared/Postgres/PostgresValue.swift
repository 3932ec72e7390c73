import Foundation

/// A value bound to a `$n` parameter, sent in PostgreSQL's text format. Give the parameter an explicit cast in the
/// SQL (`$1::bigint`) wherever the server cannot infer its type.
public protocol PostgresBindable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresBindable { public var postgresText: String { self } }
extension Int: PostgresBindable { public var postgresText: String { String(self) } }
extension Int64: PostgresBindable { public var postgresText: String { String(self) } }
extension Int32: PostgresBindable { public var postgresText: String { String(self) } }
extension Bool: PostgresBindable { public var postgresText: String { self ? "t" : "f" } }
extension UUID: PostgresBindable { public var postgresText: String { uuidString.lowercased() } }
extension Date: PostgresBindable {
    /// Microsecond precision, UTC, in a form PostgreSQL parses for timestamptz.
    public var postgresText: String { PostgresTime.format(self) }
}

/// Binary data for a `bytea` parameter (hex format, so any byte, even NUL, round-trips).
public struct PostgresBytes: PostgresBindable, Equatable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ data: Data) { self.bytes = [UInt8](data) }
    public var postgresText: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(2 + bytes.count * 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for b in bytes {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

enum PostgresTime {
    static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let secs = Int64((micros / 1_000_000).rounded(.down))
        let frac = Int64(micros) - secs * 1_000_000
        // "epoch + n seconds" avoids locale and calendar work on a hot path.
        var t = time_t(secs)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let f = String(frac)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1,
                      Int(tmv.tm_mday), Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
            + String(repeating: "0", count: 6 - f.count) + f + "+00"
    }

    /// Parses timestamptz text output (`2026-11-22 02:36:41.123456+00`, any offset, optional fraction).
    static func parse(_ s: String) -> Date? {
        let u = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= u.count else { return nil }
            var v = 0
            for k in from..<(from + len) {
                guard u[k] >= 48 && u[k] <= 57 else { return nil }
                v = v * 10 + Int(u[k] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let se = num(17, 2) else { return nil }
        var i = 19
        var micros = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(u[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offsetSeconds = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num(i + 1, 2) else { return nil }
            var om = 0
            if i + 3 < u.count, u[i + 3] == UInt8(ascii: ":"), let m = num(i + 4, 2) { om = m }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900)
        tmv.tm_mon = Int32(mo - 1)
        tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(h)
        tmv.tm_min = Int32(mi)
        tmv.tm_sec = Int32(se)
        let epoch = timegm(&tmv)
        return Date(timeIntervalSince1970: Double(Int(epoch) - offsetSeconds) + Double(micros) / 1_000_000)
    }
}

/// A one-dimensional array parameter in PostgreSQL's text form (`{"a","b"}`), for `$1::text[]` and
/// `unnest($1::text[])`: one round trip for a list. Every element is quoted and escaped, whatever it holds.
public struct PostgresArray: PostgresBindable {
    public let postgresText: String

    /// `nil` elements are SQL NULL.
    public static func text(_ elements: [String?]) -> PostgresArray {
        let quoted = elements.map { element -> String in
            guard let e = element else { return "NULL" }
            var out = "\""
            for ch in e.unicodeScalars {
                if ch == "\"" || ch == "\\" { out.append("\\") }
                out.unicodeScalars.append(ch)
            }
            return out + "\""
        }
        return PostgresArray(postgresText: "{" + quoted.joined(separator: ",") + "}")
    }
}
