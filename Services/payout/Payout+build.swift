import RefundModel
import StageRuntime

/// Payout. Consumes verified refunds and the buyer's fallback choice; calls the payment channels (HTTP); publishes
/// `refund.status.*`; owns payouts with their request numbers and the platform balance ledger.
enum Payout {
    static func definition(_ env: Environment) throws -> StageDefinition {
        let settings = try PayoutSettings(env)
        return StageDefinition(
            service: .payout, migrations: Schema.migrations,
            handler: PayoutHandler(settings: settings,
                                   client: ChannelClient(baseURL: settings.channelURL, timeout: settings.channelTimeout)))
    }
}
