import Foundation

/// A handler assembled from one closure per message type. A type nobody registered is a permanent error: the
/// message is dead-lettered with "no handler for type …" instead of being acked and forgotten.
public struct TypeRouter: StageHandler {
    public typealias Route = @Sendable (IncomingMessage, StageTransaction) throws -> Void
    private let routes: [String: Route]
    private let timers: [String: @Sendable (Deadline, StageTransaction) throws -> Void]

    public init(routes: [String: Route], timers: [String: @Sendable (Deadline, StageTransaction) throws -> Void] = [:]) {
        self.routes = routes
        self.timers = timers
    }

    public func handle(_ message: IncomingMessage, in tx: StageTransaction) throws {
        guard let route = routes[message.header.type] else {
            throw StageError.permanent("no handler for type \(message.header.type)")
        }
        try route(message, tx)
    }

    public func fire(_ deadline: Deadline, in tx: StageTransaction) throws {
        guard let timer = timers[deadline.kind] else {
            throw StageError.permanent("no timer handler for kind \(deadline.kind)")
        }
        try timer(deadline, tx)
    }
}

/// The whole `main` of a stage: logging, configuration (one line and exit 2 if wrong), run until SIGTERM.
public func runStage(_ service: String, definition: (Environment) throws -> StageDefinition,
                     hooks: (Environment) -> StageHooks = { _ in StageHooks() }) -> Never {
    let env = Environment()
    Logs.bootstrap(service: service, environment: env)
    let (settings, def) = loadConfiguration(service: service) { (try StageSettings(env), try definition(env)) }
    let runner = StageRunner(definition: def, settings: settings, hooks: hooks(env))
    do {
        try runner.run()
        finishProcess(0)
    } catch {
        let line = "\(service): fatal: \(error)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        finishProcess(1)
    }
}
