import RefundModel
import StageRuntime

/// Supplier verification. Consumes approved refunds and supplier replies; publishes verification requests (per supplier queue), verified refunds and `refund.status.*`; owns requests, answers, supplier counters and the deposit ledger.
enum SupplierVerification {
    /// Wires the stage. Message types get their routes as the issues that define them land; until then a message of
    /// any type is dead-lettered with "no handler for type …", never acked and forgotten.
    static func definition(_ env: Environment) throws -> StageDefinition {
        StageDefinition(service: .supplierVerification, migrations: Schema.migrations, handler: TypeRouter(routes: [:]))
    }
}
