import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StageRuntime

/// Prometheus's text exposition format (0.0.4), parsed strictly enough to catch a malformed page: every line is a
/// `# HELP`/`# TYPE` comment or `name{label="value",…} number`.
struct PrometheusText {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]
    /// Lines that are neither a comment nor a well-formed sample.
    let malformed: [String]

    init(_ text: String) {
        var samples: [Sample] = [], malformed: [String] = []
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?([0-9.eE+-]+|NaN|Inf))$/
        let label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let m = line.wholeMatch(of: sample), let value = Double(m.output.4) ?? (m.output.4 == "+Inf" ? .infinity : nil)
            else { malformed.append(String(line)); continue }
            var labels: [String: String] = [:]
            if let body = m.output.3 {
                for l in body.matches(of: label) { labels[String(l.output.1)] = String(l.output.2) }
            }
            samples.append(Sample(name: String(m.output.1), labels: labels, value: value))
        }
        self.samples = samples
        self.malformed = malformed
    }

    /// The sum of `name`'s samples whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    /// `GET /metrics` on a health port; nil when nothing answers.
    static func scrape(port: Int) -> PrometheusText? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        request.timeoutInterval = 5
        guard case .answered(200, let body) = BlockingHTTP.exchange(request, timeout: 5).0 else { return nil }
        return PrometheusText(String(decoding: body, as: UTF8.self))
    }
}
