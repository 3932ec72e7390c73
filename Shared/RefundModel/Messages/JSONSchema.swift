import Foundation

/// A JSON Schema (draft 2020-12) checker for the keywords the platform's published schemas use: type, enum, const,
/// required, properties, additionalProperties, items, min/maxItems, min/maxLength, pattern, minimum, maximum, allOf,
/// anyOf, if/then/else and `$ref` (within a document, `#/$defs/…`, or to another document of the set by file name).
/// Annotations (`title`, `description`, `$id`, `$schema`, `default`) are ignored. Anything else is refused when the
/// set is loaded, so a schema cannot quietly use a keyword this checker would skip.
public struct JSONSchemaSet: Sendable {
    let documents: [String: JSONValue]
    static let annotations: Set<String> = ["title", "description", "$id", "$schema", "default", "$defs", "examples"]
    static let keywords: Set<String> = ["type", "enum", "const", "required", "properties", "additionalProperties",
                                        "items", "minItems", "maxItems", "minLength", "maxLength", "pattern",
                                        "minimum", "maximum", "allOf", "anyOf", "if", "then", "else", "$ref"]

    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    /// `texts`: file name → schema text.
    public init(_ texts: [String: String]) throws {
        var docs: [String: JSONValue] = [:]
        for (name, text) in texts { docs[name] = try JSONValue.parse(Array(text.utf8)) }
        documents = docs
        for (name, doc) in docs { try Self.checkKeywords(doc, at: name) }
    }

    private static func checkKeywords(_ schema: JSONValue, at path: String) throws {
        guard case .object(let o) = schema else { return }
        for (k, v) in o {
            guard keywords.contains(k) || annotations.contains(k) else {
                throw Unsupported(description: "\(path): keyword \(k) is not supported")
            }
            switch (k, v) {
            case ("properties", .object(let props)), ("$defs", .object(let props)):
                for (name, sub) in props { try checkKeywords(sub, at: "\(path)/\(name)") }
            case ("allOf", .array(let subs)), ("anyOf", .array(let subs)):
                for sub in subs { try checkKeywords(sub, at: "\(path)/\(k)") }
            case ("items", _), ("if", _), ("then", _), ("else", _), ("additionalProperties", .object):
                try checkKeywords(v, at: "\(path)/\(k)")
            default: break
            }
        }
    }

    /// What is wrong with `value` by the schema in `document` (empty when it is valid), each with where it is.
    public func problems(_ value: JSONValue, document: String) -> [String] {
        guard let schema = documents[document] else { return ["no schema \(document)"] }
        var out: [String] = []
        check(value, schema, document: document, at: "", into: &out)
        return out
    }

    private func resolve(_ ref: String, from document: String) -> (JSONValue, String)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].isEmpty ? document : String(parts[0])
        guard var node = documents[name] else { return nil }
        if parts.count == 2 {
            for token in parts[1].split(separator: "/") {
                guard case .object(let o) = node, let next = o[String(token)] else { return nil }
                node = next
            }
        }
        return (node, name)
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, document: String, at path: String,
                       into out: inout [String]) {
        guard case .object(let s) = schema else {
            if case .bool(false) = schema { out.append("\(location(path)): not allowed") }
            return
        }
        let here = location(path)
        if case .string(let ref)? = s["$ref"] {
            if let (target, doc) = resolve(ref, from: document) {
                check(value, target, document: doc, at: path, into: &out)
            } else {
                out.append("\(here): unresolved $ref \(ref)")
            }
        }
        if let t = s["type"], !Self.matches(value, type: t) {
            out.append("\(here): must be \(Self.describe(t)), is \(Self.kind(value))")
            return
        }
        if case .array(let options)? = s["enum"], !options.contains(where: { Self.same($0, value) }) {
            out.append("\(here): must be one of \(options.map(Self.show).joined(separator: ", "))")
        }
        if let c = s["const"], !Self.same(c, value) { out.append("\(here): must be \(Self.show(c))") }
        if case .object(let o) = value {
            if case .array(let required)? = s["required"] {
                for case .string(let name) in required where o[name] == nil {
                    out.append("\(location(path + "." + name)): is required")
                }
            }
            let props: [String: JSONValue]
            if case .object(let p)? = s["properties"] { props = p } else { props = [:] }
            for (name, v) in o {
                if let sub = props[name] {
                    check(v, sub, document: document, at: path + "." + name, into: &out)
                } else if let extra = s["additionalProperties"] {
                    check(v, extra, document: document, at: path + "." + name, into: &out)
                }
            }
        }
        if case .array(let items) = value {
            if let sub = s["items"] {
                for (i, item) in items.enumerated() { check(item, sub, document: document, at: "\(path)[\(i)]", into: &out) }
            }
            if let n = Self.int(s["minItems"]), items.count < n { out.append("\(here): at least \(n) items") }
            if let n = Self.int(s["maxItems"]), items.count > n { out.append("\(here): at most \(n) items") }
        }
        if case .string(let text) = value {
            let length = text.unicodeScalars.count
            if let n = Self.int(s["minLength"]), length < n { out.append("\(here): at least \(n) characters") }
            if let n = Self.int(s["maxLength"]), length > n { out.append("\(here): at most \(n) characters") }
            if case .string(let pattern)? = s["pattern"],
               text.range(of: pattern, options: .regularExpression) == nil {
                out.append("\(here): does not match \(pattern)")
            }
        }
        if let number = Self.double(value) {
            if let min = Self.double(s["minimum"]), number < min { out.append("\(here): at least \(Self.show(s["minimum"]!))") }
            if let max = Self.double(s["maximum"]), number > max { out.append("\(here): at most \(Self.show(s["maximum"]!))") }
        }
        if case .array(let all)? = s["allOf"] {
            for sub in all { check(value, sub, document: document, at: path, into: &out) }
        }
        if case .array(let any)? = s["anyOf"] {
            let passes = any.contains { sub in
                var trial: [String] = []
                check(value, sub, document: document, at: path, into: &trial)
                return trial.isEmpty
            }
            if !passes { out.append("\(here): matches none of its alternatives") }
        }
        if let condition = s["if"] {
            var trial: [String] = []
            check(value, condition, document: document, at: path, into: &trial)
            if trial.isEmpty, let then = s["then"] {
                check(value, then, document: document, at: path, into: &out)
            } else if !trial.isEmpty, let otherwise = s["else"] {
                check(value, otherwise, document: document, at: path, into: &out)
            }
        }
    }

    private func location(_ path: String) -> String { path.isEmpty ? "the message" : String(path.dropFirst()) }

    static func matches(_ value: JSONValue, type: JSONValue) -> Bool {
        switch type {
        case .array(let types): return types.contains { matches(value, type: $0) }
        case .string(let t):
            switch (t, value) {
            case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
                 ("integer", .integer), ("number", .integer), ("number", .number): return true
            case ("integer", .number(let d)): return d.rounded() == d
            default: return false
            }
        default: return false
        }
    }

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func describe(_ t: JSONValue) -> String {
        switch t {
        case .string(let s): ["object": "an object", "array": "an array", "string": "a string", "boolean": "a boolean",
                              "integer": "an integer", "number": "a number", "null": "null"][s] ?? s
        case .array(let a): a.map(describe).joined(separator: " or ")
        default: "?"
        }
    }

    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = double(a), let y = double(b) { return x == y }
        return a == b
    }

    static func double(_ v: JSONValue?) -> Double? {
        switch v {
        case .integer(let i)?: Double(i)
        case .number(let d)?: d
        default: nil
        }
    }

    static func int(_ v: JSONValue?) -> Int? { double(v).map { Int($0) } }

    static func show(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): "\"\(s)\""
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .bool(let b): String(b)
        case .null: "null"
        default: "…"
        }
    }
}
