import Foundation
import HTTPStage
import RefundModel
import StageRuntime

/// Intake: the HTTP edge. Consumes order facts (`order.*`) and status events (`refund.status.*`); publishes
/// applications, evidence, appeals, withdrawals and reviewer decisions; owns orders, refunds, the buyer-visible
/// timeline and idempotency keys.
enum Intake {
    static func definition(_ env: SettingsSource) throws -> StageDefinition {
        let retention = try RetentionSweep.settings(env)
        // An Idempotency-Key is honoured for 24 hours (Stripe's window), then forgotten with the bodies it kept.
        let keys = RetentionSweep.Rule(
            what: "idempotency records", olderThanSeconds: try env.seconds("IDEMPOTENCY_SECONDS", default: 86_400),
            sql: """
                DELETE FROM idempotency WHERE ctid IN (SELECT ctid FROM idempotency
                WHERE created_at < now() - make_interval(secs => $1::double precision) LIMIT 500)
                """)
        return StageDefinition(service: .intake, migrations: Schema.migrations, handler: IntakeHandler(),
                               work: [RetentionSweep(rules: [keys], everySeconds: retention.everySeconds),
                                      StuckSweep(afterSeconds: try env.seconds("STUCK_AFTER_SECONDS", default: 900),
                                                 everySeconds: try env.seconds("STUCK_SWEEP_SECONDS", default: 60)),
                                      RateSweep(everySeconds: try env.seconds("RATE_SWEEP_SECONDS", default: 2))])
    }

    /// Runs the stage and the HTTP API until SIGTERM/SIGINT (see `HTTPStage`).
    static func run() async -> Int32 {
        let env = SettingsSource()
        Logs.bootstrap(service: "intake", environment: env)
        let (settings, definition, http) = loadConfiguration(service: "intake") {
            (try StageSettings(env), try Intake.definition(env), try IntakeSettings(env))
        }
        return await HTTPStage.run(
            service: "intake", settings: settings, definition: definition,
            listener: .init(host: http.httpHost, port: http.httpPort), databaseConnections: http.databasePoolSize
        ) { pool in
            Routes(api: IntakeAPI(pool: pool, schema: definition.schema, reviewOverdueSeconds: http.reviewOverdueSeconds,
                                  evidenceLimits: http.evidenceLimits),
                   tokens: http.tokens, bodyLimit: http.bodyLimitBytes,
                   callerLimit: RateLimiter(perMinute: http.writesPerMinutePerCaller),
                   addressLimit: RateLimiter(perMinute: http.writesPerMinutePerAddress)).build()
        }
    }
}
