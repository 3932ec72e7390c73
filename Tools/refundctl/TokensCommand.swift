import ArgumentParser
import ChannelSigning
import Foundation

/// `refundctl tokens issue buyer|reviewer ID [--expires DATE]`: a new API token (32 random bytes, base64url) and the
/// `API_TOKENS` entry naming its SHA-256 digest, the only thing intake keeps. The token is printed once and stored
/// nowhere. Rotation: issue a new one, add its entry beside the old, restart intake, hand it out, then remove the old
/// entry (or let its expiry end it).
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "API tokens for intake.", subcommands: [Issue.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token and print its API_TOKENS entry.")
        @Argument(help: "buyer or reviewer") var role: String
        @Argument(help: "The buyer's or reviewer's id.") var id: String
        @Option(help: "Expiry, UTC: 2027-01-31 or 2027-01-31T00:00:00Z.") var expires: String?
        @Flag(help: "JSON for scripts.") var json = false

        func validate() throws {
            guard role == "buyer" || role == "reviewer" else { throw ValidationError("the role is buyer or reviewer") }
            guard !id.isEmpty, !id.contains(where: { ",=@".contains($0) || $0.isWhitespace }) else {
                throw ValidationError("an id has no spaces, commas, '=' or '@'")
            }
            if let expires {
                let date = try? Date.ISO8601FormatStyle().year().month().day().parse(expires)
                guard date != nil || (try? Date.ISO8601FormatStyle().parse(expires)) != nil else {
                    throw ValidationError("an expiry is a date (2027-01-31) or a UTC time (2027-01-31T00:00:00Z)")
                }
            }
        }

        func run() throws {
            var bytes = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = rng.next() }
            let token = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            let entry = "sha256:\(Digests.hex(Digests.sha256(Array(token.utf8))))=\(role):\(id)"
                + (expires.map { "@\($0)" } ?? "")
            if json { return print(try Output.json(["token": token, "entry": entry])) }
            print("token: \(token)")
            print("API_TOKENS entry: \(entry)")
        }
    }
}
