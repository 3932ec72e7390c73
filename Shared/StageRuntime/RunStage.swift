import Foundation

/// The whole `main` of a stage: logging, configuration (one line and exit 2 if wrong), migrations once, then the
/// stage's services until SIGTERM (exit 0) or until one of them fails (exit 1, after the others drained).
public func runStage(_ service: String, definition: (SettingsSource) throws -> StageDefinition,
                     hooks: (SettingsSource) -> StageHooks = { _ in StageHooks() }) async -> Never {
    let env = SettingsSource()
    Logs.bootstrap(service: service, environment: env)
    StageMetrics.bootstrap()
    let (settings, def) = loadConfiguration(service: service) { (try StageSettings(env), try definition(env)) }
    let runner = StageRunner(definition: def, settings: settings, hooks: hooks(env))
    do {
        try runner.migrate()
        try await runner.run()
        finishProcess(0)
    } catch {
        runner.logger.critical("stage failed", metadata: ["error": "\(error)"])
        finishProcess(1)
    }
}
