import StageRuntime

/// Intake's own settings, on top of the stage settings.
struct IntakeSettings: Sendable {
    var httpHost: String
    var httpPort: Int
    /// Bodies above this are refused with 413 before they are parsed.
    var bodyLimitBytes: Int
    var databasePoolSize: Int
    var tokens: TokenTable
    /// In review longer than this, a refund is overdue and its buyer may open a follow-up ticket.
    var reviewOverdueSeconds: Double

    init(_ env: Environment) throws {
        httpHost = try env.string("HTTP_HOST", default: "127.0.0.1")
        httpPort = try env.int("HTTP_PORT", default: 8080, range: 1...65535)
        bodyLimitBytes = try env.int("BODY_LIMIT_BYTES", default: 65_536, range: 1_024...10_485_760)
        databasePoolSize = try env.int("HTTP_DB_CONNECTIONS", default: 4, range: 1...64)
        tokens = try TokenTable(env)
        reviewOverdueSeconds = try env.seconds("REVIEW_OVERDUE_SECONDS", default: 48 * 3600)
    }
}
