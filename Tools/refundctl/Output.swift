import ArgumentParser
import Foundation
import StageRuntime

/// How refundctl prints: aligned tables for people, JSON for scripts, one line on stderr and a meaningful exit
/// code when a decision is refused.
enum Output {
    struct Listed: Encodable {
        var schema: String
        var letter: DeadLetterRecords.Letter
    }

    struct Shown: Encodable {
        var letter: DeadLetterRecords.Letter
        var maskedBody: String?
    }

    static func json(_ value: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    static func time(_ d: Date) -> String {
        ISO8601DateFormatter.string(from: d, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        for row in [header] + rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        if rows.isEmpty { print("(none)") }
    }

    /// Runs an operator's decision; a refusal is one line on stderr and its exit code.
    @discardableResult
    static func decided<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DeadLetterDecisionError {
            FileHandle.standardError.write(Data("refundctl: \(e)\n".utf8))
            switch e {
            case .notFound: throw ExitCode(ExitStatus.notFound)
            case .alreadyDecided, .bodyNotKept: throw ExitCode(ExitStatus.refused)
            }
        }
    }
}
