import RefundModel
import StageRuntime

/// Auto-review: the pre-check. Consumes applications, evidence, appeals and reviewer decisions; publishes decisions and `refund.status.*`; owns review cases and SLA timers.
enum AutoReview {
    static func definition(_ env: SettingsSource) throws -> StageDefinition {
        StageDefinition(service: .autoReview, migrations: Schema.migrations,
                        handler: ReviewHandler(settings: try PolicySettings.from(env)))
    }
}
