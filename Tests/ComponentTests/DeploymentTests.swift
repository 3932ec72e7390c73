import Foundation
import Testing

extension Component {
    @Suite("Deployment files")
    struct DeploymentTests {
        /// No Docker engine runs here, but docker-compose parses and validates the file without one.
        @Test("docker-compose.yml is valid and has the broker, the database and the five services")
        func composeConfig() throws {
            let compose = TestStack.repoRoot.appendingPathComponent("docker-compose.yml").path
            let r = try TestStack.run("/usr/bin/docker-compose", ["-f", compose, "config"])
            #expect(r.status == 0, "\(r.output)")
            let services = try TestStack.run("/usr/bin/docker-compose", ["-f", compose, "config", "--services"])
            let names = Set(services.output.split(separator: "\n").map(String.init))
            for s in ["rabbitmq", "postgres", "intake", "auto-review", "supplier-verification", "payout",
                      "notification"] {
                #expect(names.contains(s), "compose lacks \(s)")
            }
            #expect(r.output.contains("healthcheck"))
            #expect(r.output.contains("restart"))
        }
    }
}
