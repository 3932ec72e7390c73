import HTTPStage
import RefundModel
import StageRuntime

/// Payout. Consumes verified refunds and the buyer's fallback choice; calls the payment channels (HTTP); receives
/// their signed callbacks (HTTP); publishes `refund.status.*`; owns payouts with their request numbers, the
/// platform balance ledger and the callbacks it accepted.
enum Payout {
    static func definition(_ env: SettingsSource) throws -> (StageDefinition, PayoutSettings, PayoutHandler) {
        let settings = try PayoutSettings(env)
        let handler = PayoutHandler(settings: settings,
                                    client: ChannelClient(baseURL: settings.channelURL, timeout: settings.channelTimeout))
        let retention = try RetentionSweep.settings(env)
        // A designated account number is needed until the money arrived; then only its last four digits matter.
        let accounts = RetentionSweep.Rule(what: "account numbers", olderThanSeconds: retention.personalDataSeconds, sql: """
            UPDATE payouts SET account_no = NULL WHERE refund_id IN (
                SELECT refund_id FROM payouts WHERE account_no IS NOT NULL AND state = 'succeeded'
                AND updated_at < now() - make_interval(secs => $1::double precision) LIMIT 500)
            """)
        // Several channel calls in flight per instance, each outside any transaction; due calls are looked for as
        // often as timers are (DEADLINE_POLL_MS), and at once when a payout becomes due (NOTIFY).
        let pollMillis = try env.int("DEADLINE_POLL_MS", default: 500, range: 10...60_000)
        let callers = (0..<settings.channelCallers).map {
            ChannelCaller(name: "channel-caller-\($0)", handler: handler, schema: ServiceName.payout.schema,
                          pollMillis: pollMillis, batch: settings.channelCallBatch)
        }
        return (StageDefinition(service: .payout, migrations: Schema.migrations, handler: handler,
                                work: callers + [RetentionSweep(rules: [accounts], everySeconds: retention.everySeconds)]),
                settings, handler)
    }

    static func run() async -> Int32 {
        let env = SettingsSource()
        Logs.bootstrap(service: "payout", environment: env)
        let (stage, (definition, settings, handler)) = loadConfiguration(service: "payout") {
            (try StageSettings(env), try Payout.definition(env))
        }
        return await HTTPStage.run(
            service: "payout", settings: stage, definition: definition,
            listener: .init(host: settings.callbackHost, port: settings.callbackPort), databaseConnections: 2
        ) { pool in
            CallbackReceiver(pool: pool, schema: definition.schema, settings: settings, handler: handler,
                             limiter: RateLimiter(perMinute: settings.callbackRateLimitPerMinute)).router()
        }
    }
}
