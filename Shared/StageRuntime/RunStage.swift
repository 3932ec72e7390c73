import Foundation

/// The whole `main` of a stage: logging, configuration (one line and exit 2 if wrong), run until SIGTERM.
public func runStage(_ service: String, definition: (Environment) throws -> StageDefinition,
                     hooks: (Environment) -> StageHooks = { _ in StageHooks() }) -> Never {
    let env = Environment()
    Logs.bootstrap(service: service, environment: env)
    StageMetrics.bootstrap()
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
