import Foundation

/// A small SMTP server (RFC 5321 subset: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on its own threads, one per
/// connection. It records each message with its headers and decoded text. Faults: a recipient whose local part
/// starts with `bounce` is refused for good (550); the first `failFirst` RCPT commands get 451 (try later).
final class SMTPServer: @unchecked Sendable {
    let port: Int
    let recorder: Recorder
    let failFirst: Int

    init(port: Int, recorder: Recorder, failFirst: Int) {
        self.port = port
        self.recorder = recorder
        self.failFirst = failFirst
    }

    func start() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        // SANDBOX_HOST: 0.0.0.0 in a container (the services reach it by name); loopback elsewhere.
        addr.sin_addr.s_addr = inet_addr(ProcessInfo.processInfo.environment["SANDBOX_HOST"] ?? "127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { continue }
                Thread.detachNewThread { [self] in self.session(client) }
            }
        }
    }

    private func session(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        func reply(_ s: String) { _ = (s + "\r\n").withCString { write(fd, $0, strlen($0)) } }
        func readLine() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 0x0A) {
                    var line = Array(buffer[..<i])
                    buffer.removeFirst(i + 1)
                    if line.last == 0x0D { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return nil }
                buffer += chunk[..<n]
            }
        }
        reply("220 notify-sandbox ESMTP")
        var from = "", to: [String] = []
        while let line = readLine() {
            let upper = line.uppercased()
            // A multi-line reply in one write: two small writes meet Nagle and the client's delayed ACK, and
            // stalled every session about 40 ms (issue 16).
            if upper.hasPrefix("EHLO") { reply("250-notify-sandbox\r\n250 8BITMIME") }
            else if upper.hasPrefix("HELO") { reply("250 notify-sandbox") }
            else if upper.hasPrefix("MAIL FROM:") { from = Self.address(line); to = []; reply("250 OK") }
            else if upper.hasPrefix("RCPT TO:") {
                let rcpt = Self.address(line)
                if recorder.rcptAttempt() <= failFirst { reply("451 4.3.0 try again later"); continue }
                if rcpt.lowercased().hasPrefix("bounce") { reply("550 5.1.1 no such user"); continue }
                to.append(rcpt)
                reply("250 OK")
            } else if upper == "DATA" {
                guard !to.isEmpty else { reply("503 need RCPT"); continue }
                reply("354 end with <CRLF>.<CRLF>")
                var lines: [String] = []
                while let l = readLine(), l != "." { lines.append(l.hasPrefix("..") ? String(l.dropFirst()) : l) }
                recorder.recordMail(Self.parse(lines, from: from, to: to))
                reply("250 OK queued")
            } else if upper == "RSET" { from = ""; to = []; reply("250 OK") }
            else if upper == "NOOP" { reply("250 OK") }
            else if upper == "QUIT" { reply("221 bye"); return }
            else { reply("502 command not implemented") }
        }
    }

    static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else {
            return String(line.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
        }
        return String(line[line.index(after: open)..<close])
    }

    /// Headers and the decoded text (base64 bodies and RFC 2047 subjects decoded).
    static func parse(_ lines: [String], from: String, to: [String]) -> [String: Any] {
        var headers: [String: String] = [:]
        var i = 0
        while i < lines.count, !lines[i].isEmpty {
            let parts = lines[i].split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1] }
            i += 1
        }
        let rawBody = lines.dropFirst(i + 1).joined(separator: "\n")
        var body = rawBody
        if headers["content-transfer-encoding"]?.lowercased() == "base64",
           let d = Data(base64Encoded: rawBody.filter { !$0.isWhitespace }) {
            body = String(decoding: d, as: UTF8.self)
        }
        var subject = headers["subject"] ?? ""
        if subject.hasPrefix("=?UTF-8?B?"), subject.hasSuffix("?="),
           let d = Data(base64Encoded: String(subject.dropFirst(10).dropLast(2))) {
            subject = String(decoding: d, as: UTF8.self)
        }
        // `raw`: the message as it came (CRLF lines), for a real MIME parser to judge.
        return ["from": from, "to": to, "subject": subject, "messageId": headers["message-id"] ?? "", "body": body,
                "raw": lines.joined(separator: "\r\n"),
                "at": Recorder.now()]
    }
}
