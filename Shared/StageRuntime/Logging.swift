import Foundation
import Logging
import RefundModel

/// One JSON object per line on stderr: time, level, service, message, and dot-keyed metadata (`refund.id`,
/// `message.id`, `amqp.queue`). Every string passes through `PersonalData.mask` first, so a phone number or an
/// e-mail cannot reach a log whatever a call site passes.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        emit(level: event.level, message: event.message, metadata: event.metadata)
    }

    private func emit(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?) {
        var fields: [(String, String)] = [
            ("time", Self.timestamp()), ("level", level.rawValue), ("service", label),
            ("msg", PersonalData.mask(message.description)),
        ]
        var merged = metadata
        if let explicit { merged.merge(explicit) { $1 } }
        for key in merged.keys.sorted() {
            fields.append((key, PersonalData.mask(merged[key]!.description)))
        }
        var out = "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out += "," }
            out += Self.quote(k) + ":" + Self.quote(v)
        }
        out += "}\n"
        _ = out.withCString { write(2, $0, strlen($0)) }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = tv.tv_sec
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1,
                      Int(tmv.tm_mday), Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), Int(tv.tv_usec / 1000))
    }
}

public enum Logs {
    /// Installs the JSON handler once per process; `LOG_LEVEL` (trace…critical) sets the level, default info.
    public static func bootstrap(service: String, environment: SettingsSource = SettingsSource()) {
        let level = environment.values["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        _ = service
    }
}
