import RefundModel
import StageRuntime

/// Notification. Consumes `refund.status.*`; sends SMS, e-mail and in-app messages; owns deliveries per event and channel.
enum Notification {
    /// Wires the stage. Message types get their routes as the issues that define them land; until then a message of
    /// any type is dead-lettered with "no handler for type …", never acked and forgotten.
    static func definition(_ env: Environment) throws -> StageDefinition {
        StageDefinition(service: .notification, migrations: Schema.migrations, handler: TypeRouter(routes: [:]))
    }
}
