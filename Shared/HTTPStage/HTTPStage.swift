import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StageRuntime

/// A stage that also serves HTTP (intake's API, payout's channel callbacks): the Hummingbird server is one more
/// service of the stage's `ServiceGroup` (`StageRunner.run`); on SIGTERM/SIGINT it stops accepting first, then the
/// stage finishes its window and drains its outbox.
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
    /// Returns the process's exit status: 0 after SIGTERM/SIGINT, 1 when migrations or any service failed.
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
        let pool = DatabasePool(url: settings.databaseURL, schema: definition.schema, size: databaseConnections,
                                name: service)
        let app = Application(
            router: makeRouter(pool),
            configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: service),
            onServerRunning: { _ in logger.info("http listening", metadata: ["http.port": "\(listener.port)"]) },
            logger: logger)
        // The server is stopped first: it stops accepting and finishes the requests in hand (which write to the
        // outbox) before the consumer stops and the relay drains.
        let http = ServiceGroupConfiguration.ServiceConfiguration(
            service: app, successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "\(service)-http")
        do {
            try await runner.run(stoppingFirst: [http])
            return 0
        } catch {
            logger.critical("stage failed", metadata: ["error": "\(error)"])
            return 1
        }
    }
}
