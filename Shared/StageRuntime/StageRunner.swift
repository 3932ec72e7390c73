import AMQP
import Foundation
import Logging
import Postgres
import RefundModel
import ServiceLifecycle

/// Everything the runtime needs to know about one service.
public struct StageDefinition: Sendable {
    /// The kebab name: logger label, connection name.
    public let name: String
    /// The PostgreSQL schema the service owns.
    public let schema: String
    /// The queue it consumes and the routing keys bound to it.
    public let queue: Topology.QueueSpec
    /// Extra queues it declares (e.g. supplier request queues) without consuming them.
    public let extraQueues: [Topology.QueueSpec]
    /// Its own migrations, numbered from 100 (the runtime's come first).
    public let migrations: [Migration]
    public let handler: StageHandler
    /// The handler's routes, read once.
    public let routes: MessageRoutes
    /// The service it is, when it is one of the platform's: its routes must cover what the catalogue says it consumes.
    public let service: ServiceName?
    /// Threads beside the consumer (see `BackgroundWork`).
    public let work: [BackgroundWork]
    /// Whose messages the stage acts on (checked before the handler runs).
    public let publishers: PublisherPolicy

    public init(name: String, schema: String, queue: Topology.QueueSpec, extraQueues: [Topology.QueueSpec] = [],
                migrations: [Migration] = [], handler: StageHandler, work: [BackgroundWork] = [],
                publishers: PublisherPolicy = .producersTable) {
        self.init(name: name, schema: schema, queue: queue, extraQueues: extraQueues, migrations: migrations,
                  handler: handler, work: work, publishers: publishers, service: nil)
    }

    private init(name: String, schema: String, queue: Topology.QueueSpec, extraQueues: [Topology.QueueSpec],
                 migrations: [Migration], handler: StageHandler, work: [BackgroundWork], publishers: PublisherPolicy,
                 service: ServiceName?) {
        self.name = name
        self.publishers = publishers
        self.schema = schema
        self.queue = queue
        self.extraQueues = extraQueues
        self.migrations = migrations
        self.handler = handler
        self.routes = handler.routes
        self.work = work
        self.service = service
    }

    public init(service: ServiceName, migrations: [Migration] = [], extraQueues: [Topology.QueueSpec] = [],
                handler: StageHandler, work: [BackgroundWork] = []) {
        self.init(name: service.rawValue, schema: service.schema, queue: Topology.queue(for: service),
                  extraQueues: extraQueues, migrations: migrations, handler: handler, work: work,
                  publishers: .producersTable, service: service)
    }

    /// Fails when the stage's handlers do not cover exactly what the message catalogue says it consumes.
    func checkRoutes() throws {
        guard let service, let why = routes.mismatch(expected: MessageCatalogue.types(consumedBy: service)) else {
            return
        }
        throw StageDefinitionError(description: "\(service.rawValue)'s handlers and MessageCatalogue disagree: \(why)")
    }
}

extension QueueDeclaration {
    /// A stage's own queue: its DLQ, its quarantine, and the key an operator's replay comes back in under.
    public init(stage queue: Topology.QueueSpec, deliveryLimit: Int) {
        self.init(name: queue.name, bindings: queue.bindings, deliveryLimit: deliveryLimit,
                  deadLetterQueue: Topology.deadLetterQueue(of: queue.name),
                  quarantineQueue: Topology.quarantineQueue(of: queue.name),
                  replayRoutingKey: Topology.replayRoutingKey(of: queue.name))
    }
}

public struct StageDefinitionError: Error, CustomStringConvertible {
    public let description: String
}

/// Test-only fault injection points. Production wiring leaves them nil.
public struct StageHooks: Sendable {
    /// Called after a window's transaction committed and before its ack (argument: window size).
    public var afterCommit: (@Sendable (Int) -> Void)?
    public init(afterCommit: (@Sendable (Int) -> Void)? = nil) { self.afterCommit = afterCommit }
}

/// Runs a stage: migrations once, then its loops (consumer windows, dead-letter quarantine, background work, timers,
/// outbox relay, health listener) as the services of one `ServiceGroup` until SIGTERM or SIGINT. The group stops
/// them in the reverse of their start order, each finishing before the next is asked: an HTTP server first (when the
/// stage has one), then the consumer finishes its window and stops consuming, then the quarantine, the background
/// work and the timers finish their transaction in hand, then the relay drains what they all committed, and the
/// health listener, which answered all along, goes last. Any loop failing drains the group the same way and makes
/// `run` throw, so the process exits non-zero.
public final class StageRunner: Sendable {
    public let definition: StageDefinition
    public let settings: StageSettings
    /// What `/ready` and `/live` report.
    public let health = StageHealth()
    let hooks: StageHooks
    let logger: Logger

    public init(definition: StageDefinition, settings: StageSettings, hooks: StageHooks = StageHooks()) {
        self.definition = definition
        self.settings = settings
        self.hooks = hooks
        var l = Logger(label: definition.name)
        l[metadataKey: "amqp.queue"] = "\(definition.queue.name)"
        self.logger = l
    }

    /// The queues this stage declares, with their dead-letter queues and delivery limit.
    var declarations: [QueueDeclaration] {
        [QueueDeclaration(stage: definition.queue, deliveryLimit: settings.deliveryLimit)]
            + definition.extraQueues.map {
                QueueDeclaration(name: $0.name, bindings: $0.bindings, deliveryLimit: settings.deliveryLimit,
                                 deadLetterQueue: Topology.deadLetterQueue(of: $0.name))
            }
    }

    /// Applies migrations, retrying until the database is reachable. Runs once per process, before any service
    /// starts (a SIGTERM meanwhile ends the process: migrations are transactions).
    public func migrate() throws {
        let sql = RuntimeSQL(schema: definition.schema)
        guard let db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "migrate",
                                            stop: StopSignal(), logger: logger) else { return }
        defer { db.close() }
        let applied = try Migrator.apply(RuntimeSchema.migrations + definition.migrations, schema: definition.schema,
                                         on: db)
        if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
    }

    /// Runs the stage's loops, and `first` (services stopped before the consumer, e.g. an HTTP server that writes to
    /// the outbox), as one group until SIGTERM/SIGINT. Call `migrate()` first. Throws when any of them failed.
    public func run(stoppingFirst first: [ServiceGroupConfiguration.ServiceConfiguration] = []) async throws {
        try definition.checkRoutes()
        signal(SIGPIPE, SIG_IGN)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: loops().map(\.configuration) + first, gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.info("stopped")
    }

    /// The loops in start order (the group stops them in reverse).
    func loops() -> [LoopService] {
        let sql = RuntimeSQL(schema: definition.schema)
        let decls = declarations
        let declare: @Sendable (AMQPConnection) throws -> Void = { c in
            try c.declare(eventsExchange: Topology.eventsExchange, deadLetterExchange: Topology.deadLetterExchange,
                          queues: decls)
        }
        let name = definition.name
        var loops: [LoopService] = []
        // Answers until everything else has ended, then reports not-live.
        let healthStop = StopSignal()
        if let port = settings.healthPort,
           let listener = HealthListener(host: settings.healthHost, port: port, health: health, stop: healthStop,
                                         logger: logger) {
            loops.append(LoopService("\(name)-health", stop: healthStop) { [health] in
                listener.run()
                health.stageEnded()
            })
        }
        let relayStop = StopSignal()
        loops.append(LoopService("\(name)-relay", stop: relayStop) { [self] in
            OutboxRelay(settings: settings, sql: sql, stop: relayStop, logger: logger, health: health)
                .run(declare: declare)
        })
        let timersStop = StopSignal()
        loops.append(LoopService("\(name)-deadlines", stop: timersStop) { [self] in
            DeadlineRunner(definition: definition, settings: settings, sql: sql, stop: timersStop, logger: logger).run()
        })
        // Every stage prunes its own inbox and samples its gauges; a service's own work comes with its definition.
        let inbox = RetentionSweep(rules: [RetentionSweep.Rule(what: "inbox",
                                                               olderThanSeconds: settings.inboxRetentionSeconds,
                                                               sql: sql.pruneInbox)],
                                   everySeconds: settings.retentionSweepSeconds, name: "inbox-retention")
        let sampler = MetricsSampler(everySeconds: settings.metricsSampleSeconds, sql: sql)
        for work in [inbox, sampler] + definition.work {
            let stop = StopSignal()
            let context = WorkContext(stop: stop, logger: logger, databaseURL: settings.databaseURL,
                                      schema: definition.schema)
            loops.append(LoopService("\(name)-\(work.name)", stop: stop) { work.run(context) })
        }
        let quarantineStop = StopSignal()
        loops.append(LoopService("\(name)-quarantine", stop: quarantineStop) { [self] in
            DeadLetterQuarantine(queue: decls[0], schema: definition.schema, settings: settings, stop: quarantineStop,
                                 logger: logger)
                .run(declare: declare)
        })
        let consumerStop = StopSignal()
        loops.append(LoopService("\(name)-consumer", stop: consumerStop) { [self] in
            StageWorker(definition: definition, settings: settings, sql: sql, stop: consumerStop, logger: logger,
                        hooks: hooks, health: health)
                .run(declare: declare) {
                    self.logger.info("connected and consuming", metadata: [
                        "amqp.url": "\(self.settings.amqpURL)", "prefetch": "\(self.settings.prefetch)",
                        "batch": "\(self.settings.batchSize)",
                    ])
                }
        })
        return loops
    }
}

