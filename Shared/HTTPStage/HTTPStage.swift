import Foundation
import Hummingbird
import Logging
import StageRuntime

/// A stage that also serves HTTP (intake's API, payout's channel callbacks): the stage's threads (consumer, relay,
/// timers) run beside a Hummingbird server until SIGTERM/SIGINT; then the server stops accepting, the stage
/// finishes its window and drains its outbox.
public enum HTTPStage {
    public struct Listener: Sendable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// `makeRouter` gets a database pool on the service's schema (blocking libpq calls off Swift's cooperative pool).
    public static func run(service: String, settings: StageSettings, definition: StageDefinition, listener: Listener,
                           databaseConnections: Int,
                           makeRouter: (DatabasePool) -> Router<AddressedContext>) async -> Int32 {
        StageMetrics.bootstrap()
        let runner = StageRunner(definition: definition, settings: settings)
        let logger = Logger(label: service)
        do { try runner.migrate() } catch {
            logger.critical("migrations failed", metadata: ["error": "\(error)"])
            return 1
        }
        let stage = WorkerThread(name: "\(service)-stage") {
            do { try runner.run(handleSignals: false, migrated: true) } catch {
                logger.critical("stage failed", metadata: ["error": "\(error)"])
            }
            // A stage that ends when nobody asked it to leaves a process that answers HTTP but moves nothing:
            // exit, so that the orchestrator restarts it.
            if !runner.stop.isStopped {
                logger.critical("stage ended unexpectedly; exiting so that the service is restarted")
                finishProcess(1)
            }
        }
        let pool = DatabasePool(url: settings.databaseURL, schema: definition.schema, size: databaseConnections,
                                name: service)
        let app = Application(
            router: makeRouter(pool),
            configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: service),
            onServerRunning: { _ in logger.info("http listening", metadata: ["http.port": "\(listener.port)"]) },
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
