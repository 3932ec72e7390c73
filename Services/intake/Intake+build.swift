import Foundation
import Hummingbird
import Logging
import RefundModel
import StageRuntime

/// Intake: the HTTP edge. Consumes order facts (`order.*`) and status events (`refund.status.*`); publishes
/// applications, evidence, appeals, withdrawals and reviewer decisions; owns orders, refunds, the buyer-visible
/// timeline and idempotency keys.
enum Intake {
    static func definition(_ env: StageRuntime.Environment) throws -> StageDefinition {
        StageDefinition(service: .intake, migrations: Schema.migrations, handler: IntakeHandler())
    }

    /// Runs the stage (consumer, relay, timers on their own threads) and the HTTP server until SIGTERM/SIGINT;
    /// then the server stops accepting, the stage finishes its window and drains its outbox.
    static func run() async -> Int32 {
        let env = StageRuntime.Environment()
        Logs.bootstrap(service: "intake", environment: env)
        let (settings, definition, http) = loadConfiguration(service: "intake") {
            (try StageSettings(env), try Intake.definition(env), try IntakeSettings(env))
        }
        let runner = StageRunner(definition: definition, settings: settings)
        let logger = Logger(label: "intake")
        do { try runner.migrate() } catch {
            logger.critical("migrations failed", metadata: ["error": "\(error)"])
            return 1
        }
        let stage = WorkerThread(name: "intake-stage") {
            do { try runner.run(handleSignals: false) } catch {
                logger.critical("stage failed", metadata: ["error": "\(error)"])
            }
        }
        let pool = DatabasePool(url: settings.databaseURL, schema: definition.schema, size: http.databasePoolSize)
        let routes = Routes(api: IntakeAPI(pool: pool, schema: definition.schema), tokens: http.tokens,
                            bodyLimit: http.bodyLimitBytes)
        let app = Application(
            router: routes.build(),
            configuration: .init(address: .hostname(http.httpHost, port: http.httpPort), serverName: "intake"),
            onServerRunning: { _ in logger.info("http listening", metadata: ["http.port": "\(http.httpPort)"]) },
            logger: logger)
        var status: Int32 = 0
        do { try await app.runService() } catch {
            logger.critical("http server failed", metadata: ["error": "\(error)"])
            status = 1
        }
        runner.stop.stop()
        stage.join()
        return status
    }
}
