import RefundModel

/// Whose messages a stage acts on. The five services use the producers table (`Producers`): a message whose
/// validated publisher (`user_id`, checked by RabbitMQ against the publisher's login) is not the rightful producer of
/// its routing key is dead-lettered as forged and counted, before any handler sees it.
public enum PublisherPolicy: Sendable {
    /// `Producers.table` decides (every service).
    case producersTable
    /// Anyone the broker let publish to the queue (the runtime's own test probe, whose keys are not in the table).
    case anyPublisher

    /// Why the message must not be acted on, or nil.
    func refusal(routingKey: String, validatedUser: String?) -> String? {
        switch self {
        case .producersTable: return Producers.refusal(routingKey: routingKey, validatedUser: validatedUser)
        case .anyPublisher: return nil
        }
    }
}
