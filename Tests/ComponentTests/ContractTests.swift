import Foundation
import Testing

extension Component {
    /// Issue 13 §4: the contract holds. schemathesis (PyPI, pinned in `scripts/stack install`) reads intake's
    /// `/openapi.json` and throws generated requests at the live service — valid ones, invalid ones, other methods,
    /// missing headers, no credentials — as a buyer and as a reviewer, with every check it has: no 5xx, every status
    /// and body as documented, invalid input refused, valid input not refused, 405 with Allow.
    @Suite("Contract: schemathesis against the live intake")
    struct ContractTests {
        @Test("schemathesis, buyer and reviewer, every check: zero failures")
        func schemathesis() throws {
            let tool = TestStack.repoRoot.appendingPathComponent(".stack/venv/bin/schemathesis").path
            try #require(FileManager.default.isExecutableFile(atPath: tool), "scripts/stack install makes \(tool)")
            // Writes are not rate-limited here: the fuzzer sends thousands, and 429 would hide what it tests.
            let s = try ServiceProcesses(["intake"], env: ["RATE_LIMIT_WRITES_PER_MINUTE": "1000000",
                                                           "RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE": "1000000"])
            defer { s.stop() }
            var total = 0
            for (who, token) in [("buyer", IntakeAPITests.b1), ("reviewer", IntakeAPITests.r1)] {
                let config = TestStack.repoRoot.appendingPathComponent("Tests/contract/schemathesis.toml").path
                let run = try TestStack.run(tool, [
                    "--config-file", config, "run", "http://127.0.0.1:\(s.httpPort)/openapi.json", "-H", "Authorization: Bearer \(token)",
                    "--checks", "all", "--max-examples", "40", "--seed", "20261206", "--workers", "1",
                ], env: ["NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"])
                let cases = run.output.firstMatch(of: /(\d+) generated, (\d+) passed/)
                #expect(run.status == 0, "\(who): schemathesis found failures:\n\(run.output.suffix(6000))")
                #expect(cases != nil && cases?.1 == cases?.2, "\(who): \(run.output.suffix(600))")
                total += Int(cases?.1 ?? "0") ?? 0
            }
            #expect(total > 2_000, "\(total) cases")
            print("schemathesis: \(total) cases, buyer and reviewer")
        }
    }
}
