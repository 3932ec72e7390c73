import Foundation
import Postgres
import RefundModel
import StageRuntime

/// Supplier verification. Consumes approved refunds, supplier replies and arbitration decisions; publishes
/// verification requests (one queue per supplier), verified refunds and `refund.status.*`; owns requests, answers,
/// supplier counters and the deposit ledger.
enum SupplierVerification {
    static func definition(_ env: SettingsSource) throws -> StageDefinition {
        let settings = try VerificationSettings(env)
        return StageDefinition(
            service: .supplierVerification, migrations: Schema.migrations,
            extraQueues: settings.supplierIds.map { Topology.supplierRequestQueue(supplier: $0) },
            handler: VerificationHandler(settings: settings))
    }

    /// `supplier-verification stats`: each supplier's counters and deposit charges, as JSON on stdout.
    static func printStats(_ env: SettingsSource) -> Never {
        let url = loadConfiguration(service: "supplier-verification") { try env.postgresURL() }
        do {
            let db = try PostgresConnection(url: url)
            try db.simple("SET search_path TO \(ServiceName.supplierVerification.schema)")
            let data = try JSONSerialization.data(withJSONObject: ["suppliers": try RequestRepository(db: db).stats()],
                                                  options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            exit(0)
        } catch {
            print("supplier-verification stats: \(error)")
            exit(1)
        }
    }
}
