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
    var evidenceLimits: EvidenceLimits
    /// Writes per minute by one caller and by one address (429 with Retry-After beyond); 0 turns a limit off.
    var writesPerMinutePerCaller: Int
    var writesPerMinutePerAddress: Int

    init(_ env: SettingsSource) throws {
        httpHost = try env.string("HTTP_HOST", default: "127.0.0.1")
        httpPort = try env.int("HTTP_PORT", default: 8080, range: 1...65535)
        bodyLimitBytes = try env.int("BODY_LIMIT_BYTES", default: 65_536, range: 1_024...10_485_760)
        databasePoolSize = try env.int("HTTP_DB_CONNECTIONS", default: 4, range: 1...64)
        tokens = try TokenTable(env)
        reviewOverdueSeconds = try env.seconds("REVIEW_OVERDUE_SECONDS", default: 48 * 3600)
        evidenceLimits = EvidenceLimits(maxItems: try env.int("EVIDENCE_MAX_ITEMS", default: 20, range: 1...1_000),
                                        maxBytes: try env.int("EVIDENCE_MAX_BYTES", default: 65_536,
                                                              range: 1_024...10_485_760))
        writesPerMinutePerCaller = try env.int("RATE_LIMIT_WRITES_PER_MINUTE", default: 60, range: 0...1_000_000)
        writesPerMinutePerAddress = try env.int("RATE_LIMIT_ADDRESS_WRITES_PER_MINUTE", default: 600,
                                                range: 0...1_000_000)
    }
}
