import RefundModel
import StageRuntime

/// Intake: the HTTP edge. Consumes order facts (`order.*`) and status events (`refund.status.*`); publishes applications, evidence, appeals and reviewer decisions; owns orders, refunds and the buyer-visible timeline.
enum Intake {
    /// Wires the stage. Message types get their routes as the issues that define them land; until then a message of
    /// any type is dead-lettered with "no handler for type …", never acked and forgotten.
    static func definition(_ env: Environment) throws -> StageDefinition {
        StageDefinition(service: .intake, migrations: Schema.migrations, handler: TypeRouter(routes: [:]))
    }
}
