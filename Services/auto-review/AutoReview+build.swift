import RefundModel
import StageRuntime

/// Auto-review: the pre-check. Consumes applications, evidence, appeals and reviewer decisions; publishes decisions and `refund.status.*`; owns review cases and SLA timers.
enum AutoReview {
    /// Wires the stage. Message types get their routes as the issues that define them land; until then a message of
    /// any type is dead-lettered with "no handler for type …", never acked and forgotten.
    static func definition(_ env: Environment) throws -> StageDefinition {
        StageDefinition(service: .autoReview, migrations: Schema.migrations, handler: TypeRouter(routes: [:]))
    }
}
