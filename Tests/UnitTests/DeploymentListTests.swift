import Foundation
import RefundModel
import Testing

/// The shell side of the deployment (scripts/stack, scripts/run, scripts/containers, scripts/bench, the Dockerfile,
/// both provisioning scripts) reads the list of services from Tools/provisioning/services.tsv; it must say what
/// `ServiceName` says.
@Suite("Deployment lists come from ServiceName")
struct DeploymentListTests {
    @Test("Tools/provisioning/services.tsv is ServiceName")
    func servicesFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let expected = "# service\tschema (generated from ServiceName; see DeploymentListTests)\n"
            + ServiceName.allCases.map { "\($0.rawValue)\t\($0.schema)\n" }.joined()
        let file = root.appendingPathComponent("Tools/provisioning/services.tsv")
        let actual = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        if actual != expected, ProcessInfo.processInfo.environment["REGENERATE"] == "1" {
            try expected.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(actual == expected, "regenerate with: REGENERATE=1 swift test --filter DeploymentListTests\n\(expected)")
    }

    @Test("no deployment script spells the list of services itself")
    func noCopies() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for path in ["scripts/stack", "scripts/run", "scripts/containers", "scripts/bench", "Tools/docker/Dockerfile",
                     "Tools/provisioning/rabbitmq.sh", "Tools/provisioning/postgres-roles.sh"] {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            #expect(!text.contains("intake auto-review"), "\(path) lists the services itself")
        }
    }
}
