import Foundation

/// One result row, decoded by column name. Values arrive in text format; decoding failures throw `.decode`
/// naming the column, so a schema drift is an error, never a silent zero.
public struct PostgresRow: Sendable {
    let columns: [String: Int]
    let values: [String?]

    public func isNull(_ column: String) throws -> Bool { try raw(column) == nil }

    func raw(_ column: String) throws -> String? {
        guard let idx = columns[column] else { throw PostgresError(.decode, "no column \(column)") }
        return values[idx]
    }

    private func required(_ column: String) throws -> String {
        guard let v = try raw(column) else { throw PostgresError(.decode, "column \(column) is null") }
        return v
    }

    public func string(_ column: String) throws -> String { try required(column) }
    public func optionalString(_ column: String) throws -> String? { try raw(column) }

    public func int64(_ column: String) throws -> Int64 {
        guard let v = Int64(try required(column)) else { throw PostgresError(.decode, "column \(column) not bigint") }
        return v
    }

    public func optionalInt64(_ column: String) throws -> Int64? {
        guard let s = try raw(column) else { return nil }
        guard let v = Int64(s) else { throw PostgresError(.decode, "column \(column) not bigint") }
        return v
    }

    public func int(_ column: String) throws -> Int { Int(try int64(column)) }

    public func bool(_ column: String) throws -> Bool {
        switch try required(column) {
        case "t": return true
        case "f": return false
        default: throw PostgresError(.decode, "column \(column) not boolean")
        }
    }

    public func uuid(_ column: String) throws -> UUID {
        guard let v = UUID(uuidString: try required(column)) else {
            throw PostgresError(.decode, "column \(column) not uuid")
        }
        return v
    }

    public func date(_ column: String) throws -> Date {
        guard let v = PostgresTime.parse(try required(column)) else {
            throw PostgresError(.decode, "column \(column) not timestamptz")
        }
        return v
    }

    public func optionalDate(_ column: String) throws -> Date? {
        guard let s = try raw(column) else { return nil }
        guard let v = PostgresTime.parse(s) else { throw PostgresError(.decode, "column \(column) not timestamptz") }
        return v
    }

    /// A `bytea` column (hex output format).
    public func bytes(_ column: String) throws -> [UInt8] {
        let s = Array(try required(column).utf8)
        guard s.count >= 2, s[0] == UInt8(ascii: "\\"), s[1] == UInt8(ascii: "x"), s.count % 2 == 0 else {
            throw PostgresError(.decode, "column \(column) not bytea hex")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: throw PostgresError(.decode, "column \(column) bad hex")
            }
        }
        var out = [UInt8]()
        out.reserveCapacity((s.count - 2) / 2)
        var i = 2
        while i < s.count {
            out.append(try nibble(s[i]) << 4 | nibble(s[i + 1]))
            i += 2
        }
        return out
    }
}
