import RefundModel
import StageRuntime

/// Payout. Consumes verified refunds; publishes `refund.status.*`; owns payouts with their provider request numbers and the balance ledger.
enum Payout {
    /// Wires the stage. Message types get their routes as the issues that define them land; until then a message of
    /// any type is dead-lettered with "no handler for type …", never acked and forgotten.
    static func definition(_ env: Environment) throws -> StageDefinition {
        StageDefinition(service: .payout, migrations: Schema.migrations, handler: TypeRouter(routes: [:]))
    }
}
