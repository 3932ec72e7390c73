import Foundation
import RefundModel
import Testing

extension Component {
    @Suite("Deployment files")
    struct DeploymentTests {
        static let compose = TestStack.repoRoot.appendingPathComponent("docker-compose.yml").path
        /// Every secret the compose file requires, with throwaway values.
        static let secrets: [String: String] = Dictionary(uniqueKeysWithValues: [
            "RABBITMQ_ADMIN_PASSWORD", "POSTGRES_ADMIN_PASSWORD", "INTAKE_AMQP_PASSWORD", "AUTO_REVIEW_AMQP_PASSWORD",
            "SUPPLIER_VERIFICATION_AMQP_PASSWORD", "PAYOUT_AMQP_PASSWORD", "NOTIFICATION_AMQP_PASSWORD",
            "MARKETPLACE_AMQP_PASSWORD", "INTAKE_DB_PASSWORD", "REVIEW_DB_PASSWORD", "SUPPLIER_DB_PASSWORD",
            "PAYOUT_DB_PASSWORD", "NOTIFICATION_DB_PASSWORD", "CHANNEL_SECRETS", "SUPPLIER_CREDENTIALS", "SUPPLIER_IDS",
            "CHANNEL_URL", "SMS_URL", "SMTP_URL",
        ].map { ($0, "test-\($0.lowercased())") })

        static func config(_ env: [String: String], _ args: [String] = []) throws -> (status: Int32, output: String) {
            // Only what is given here: none of the host's variables may satisfy a required secret.
            try TestStack.run("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin"] + env.map { "\($0.key)=\($0.value)" }
                              + ["/usr/bin/docker-compose", "-f", compose, "--profile", "demo", "config"] + args)
        }

        /// The real run of these files is `scripts/containers test` (podman, in .ci/run); this checks their shape.
        @Test("docker-compose.yml: every secret required, every service with a /ready health check, a fixed broker node name")
        func composeConfig() throws {
            let r = try Self.config(Self.secrets)
            #expect(r.status == 0, "\(r.output)")
            let services = try Self.config(Self.secrets, ["--services"])
            let names = Set(services.output.split(separator: "\n").map(String.init))
            for s in ["rabbitmq", "postgres", "provision", "payment-sandbox", "notify-sandbox", "supplier-sandbox"]
                + ServiceName.allCases.map(\.rawValue) {
                #expect(names.contains(s), "compose lacks \(s)")
            }
            // The resolved file as JSON (PyYAML comes with docker-compose), to look at each service.
            let json = try TestStack.run("/bin/sh", ["-c", "printf '%s' \"$0\" | python3 -c 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'", r.output])
            let root = (try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) as? [String: Any] ?? [:]
            let defs = root["services"] as? [String: [String: Any]] ?? [:]
            for s in ServiceName.allCases.map(\.rawValue) {
                let test = ((defs[s]?["healthcheck"] as? [String: Any])?["test"] as? [String]) ?? []
                #expect(test.contains("http://127.0.0.1:8081/ready"), "\(s) has no /ready health check: \(test)")
                let after = (defs[s]?["depends_on"] as? [String: [String: String]]) ?? [:]
                #expect(after["provision"]?["condition"] == "service_completed_successfully", "\(s) starts before provisioning")
                #expect(after["postgres"]?["condition"] == "service_healthy")
                #expect(defs[s]?["restart"] as? String == "unless-stopped")
            }
            #expect(defs["rabbitmq"]?["hostname"] as? String == "rabbitmq", "a fixed node name")
            #expect(!r.output.contains("change-me"))

            // Without a secret, compose refuses to start and names it.
            for missing in ["PAYOUT_AMQP_PASSWORD", "SUPPLIER_IDS", "RABBITMQ_ADMIN_PASSWORD"] {
                var env = Self.secrets
                env[missing] = nil
                let refused = try Self.config(env)
                #expect(refused.status != 0 && refused.output.contains(missing), "\(missing): \(refused.output)")
            }
        }
    }
}
