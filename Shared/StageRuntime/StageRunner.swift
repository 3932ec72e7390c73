import AMQP
import Foundation
import Logging
import Postgres
import RefundModel

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
    /// Threads beside the consumer (see `BackgroundWork`).
    public let work: [BackgroundWork]
    /// Whose messages the stage acts on (checked before the handler runs).
    public let publishers: PublisherPolicy

    public init(name: String, schema: String, queue: Topology.QueueSpec, extraQueues: [Topology.QueueSpec] = [],
                migrations: [Migration] = [], handler: StageHandler, work: [BackgroundWork] = [],
                publishers: PublisherPolicy = .producersTable) {
        self.name = name
        self.publishers = publishers
        self.schema = schema
        self.queue = queue
        self.extraQueues = extraQueues
        self.migrations = migrations
        self.handler = handler
        self.work = work
    }

    public init(service: ServiceName, migrations: [Migration] = [], extraQueues: [Topology.QueueSpec] = [],
                handler: StageHandler, work: [BackgroundWork] = []) {
        self.init(name: service.rawValue, schema: service.schema, queue: Topology.queue(for: service),
                  extraQueues: extraQueues, migrations: migrations, handler: handler, work: work)
    }
}

/// Test-only fault injection points. Production wiring leaves them nil.
public struct StageHooks: Sendable {
    /// Called after a window's transaction committed and before its ack (argument: window size).
    public var afterCommit: (@Sendable (Int) -> Void)?
    public init(afterCommit: (@Sendable (Int) -> Void)? = nil) { self.afterCommit = afterCommit }
}

/// Runs a stage: migrations, then three threads (consumer windows, outbox relay, deadlines) until SIGTERM or
/// SIGINT; then finishes the window in hand, stops consuming, drains the relay, and returns.
public final class StageRunner: Sendable {
    public let definition: StageDefinition
    public let settings: StageSettings
    public let stop = StopSignal()
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
        [QueueDeclaration(name: definition.queue.name, bindings: definition.queue.bindings,
                          deliveryLimit: settings.deliveryLimit, quarantine: true,
                          replayRoutingKey: Topology.replayRoutingKey(of: definition.queue.name))]
            + definition.extraQueues.map {
                QueueDeclaration(name: $0.name, bindings: $0.bindings, deliveryLimit: settings.deliveryLimit)
            }
    }

    /// Applies migrations (retrying until the database is reachable or the stage is stopped).
    public func migrate() throws {
        let sql = RuntimeSQL(schema: definition.schema)
        guard let db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "migrate", stop: stop,
                                            logger: logger) else { return }
        defer { db.close() }
        let applied = try Migrator.apply(RuntimeSchema.migrations + definition.migrations, schema: definition.schema,
                                         on: db)
        if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
    }

    /// Blocks until stopped. Installs SIGTERM/SIGINT handlers when `handleSignals` is set; applies migrations first
    /// unless the caller did (`HTTPStage` migrates before its server starts, once).
    public func run(handleSignals: Bool = true, migrated: Bool = false) throws {
        if handleSignals { installSignalHandlers() }
        if !migrated { try migrate() }
        let sql = RuntimeSQL(schema: definition.schema)
        let decls = declarations
        let declare: @Sendable (AMQPConnection) throws -> Void = { c in
            try c.declare(eventsExchange: Topology.eventsExchange, deadLetterExchange: Topology.deadLetterExchange,
                          queues: decls)
        }
        let workerStop = stop
        let relayStop = StopSignal()
        // Answers until the relay has drained: a stopping stage reports not-live only once it has ended.
        let healthListener = settings.healthPort.flatMap { port in
            HealthListener(host: settings.healthHost, port: port, health: health, stop: relayStop, logger: logger)
        }.map { listener in WorkerThread(name: "\(definition.name)-health") { listener.run() } }
        let worker = essential("consumer", until: workerStop) { [self] in
            StageWorker(definition: definition, settings: settings, sql: sql, stop: workerStop, logger: logger,
                        hooks: hooks, health: health)
                .run(declare: declare) {
                    self.logger.info("connected and consuming", metadata: [
                        "amqp.url": "\(self.settings.amqpURL)", "prefetch": "\(self.settings.prefetch)",
                        "batch": "\(self.settings.batchSize)",
                    ])
                }
        }
        let relay = essential("relay", until: relayStop) { [self] in
            OutboxRelay(settings: settings, sql: sql, stop: relayStop, logger: logger, health: health)
                .run(declare: declare)
        }
        let quarantine = essential("quarantine", until: workerStop) { [self] in
            DeadLetterQuarantine(queue: decls[0], schema: definition.schema, settings: settings, stop: workerStop, logger: logger)
                .run(declare: declare)
        }
        let timers = essential("deadlines", until: workerStop) { [self] in
            DeadlineRunner(definition: definition, settings: settings, sql: sql, stop: workerStop, logger: logger).run()
        }
        let context = WorkContext(stop: workerStop, logger: logger, databaseURL: settings.databaseURL,
                                  schema: definition.schema)
        // Every stage prunes its own inbox; a service's own sweeps come with its definition.
        let inbox = RetentionSweep(rules: [RetentionSweep.Rule(what: "inbox", olderThanSeconds: settings.inboxRetentionSeconds,
                                                               sql: sql.pruneInbox)],
                                   everySeconds: settings.retentionSweepSeconds, name: "inbox-retention")
        let sampler = MetricsSampler(everySeconds: settings.metricsSampleSeconds, sql: sql)
        let background = ([inbox, sampler] + definition.work).map { w in
            essential(w.name, until: workerStop) { w.run(context) }
        }
        // Shutdown order: the consumer, timers and background work finish their transaction in hand first, then
        // the relay drains what they committed.
        worker.join()
        quarantine.join()
        timers.join()
        background.forEach { $0.join() }
        relayStop.stop()
        relay.join()
        health.stageEnded()
        healthListener?.join()
        logger.info("stopped")
    }

    /// A loop of the stage on its own thread. Each loop runs until its stop signal, reconnecting on its own after
    /// any error; one that ends while nobody asked it to (a bug, a dependency it cannot live without) leaves a
    /// process that looks up but no longer does its part, so the whole process exits non-zero and the
    /// orchestrator restarts it: every commit is acked or redelivered, every outbox row is still there.
    private func essential(_ name: String, until stop: StopSignal, _ body: @escaping @Sendable () -> Void)
        -> WorkerThread {
        WorkerThread(name: "\(definition.name)-\(name)") { [logger, stop] in
            body()
            if !stop.isStopped {
                logger.critical("a loop of the stage ended unexpectedly; exiting so that it is restarted",
                                metadata: ["loop": "\(name)"])
                finishProcess(1)
            }
        }
    }

    private func installSignalHandlers() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let queue = DispatchQueue(label: "signals")
        for sig in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [stop, logger] in
                logger.info("signal received, stopping", metadata: ["signal": "\(sig)"])
                stop.stop()
            }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    static func keep(_ s: DispatchSourceSignal) { sources.append(s) }
}
