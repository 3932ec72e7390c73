import Foundation

/// refund-load (Tools/refund-load) as the tests run it against a fleet: the marketplace's order events over AMQP,
/// the buyers' applications over HTTP, then its own invariants (every refund final, paid at most once by the
/// channel's ledger, timelines in order). The chaos and cluster tests start the services with these secrets.
enum LoadDriver {
    static let callbackSecret = "scale-out-callback-secret"
    static let jwtSecret = "scale-out-jwt-secret-0123456789abcdef"

    /// A refund-load process (not started) for `count` refunds through `intakes`, checked against the payment
    /// sandbox on `channelPort`; its figures go to stdout (one JSON line), its problems to stderr.
    static func process(count: Int, intakes: [Int], channelPort: Int, run: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestStack.binPath + "/refund-load")
        p.environment = ProcessInfo.processInfo.environment.merging([
            "AMQP_URL": try TestStack.setting("MARKETPLACE_AMQP_URL"),
            "INTAKE_URL": intakes.map { "http://127.0.0.1:\($0)" }.joined(separator: ","),
            "CHANNEL_URL": "http://127.0.0.1:\(channelPort)", "LOAD_JWT_SECRET": jwtSecret,
            "LOAD_COUNT": String(count), "LOAD_RUN": run, "LOAD_WAIT_SECONDS": String(max(240, count / 4)),
        ]) { $1 }
        return p
    }

    /// The payment sandbox as the fleet tests run it: bank cards answer PROCESSING and are settled a second later by a
    /// signed callback to payout on `callbackPort`; its ledger is the truth on money.
    static func paymentSandbox(port: Int, callbackPort: Int) throws -> Process {
        try ServiceProcesses.launchTool("payment-sandbox", env: [
            "SANDBOX_HTTP_PORT": String(port), "SANDBOX_PROCESSING_SECONDS": "1",
            "SANDBOX_PROCESSING_CHANNELS": "bank_card",
            "SANDBOX_CALLBACK_URL": "http://127.0.0.1:\(callbackPort)/v1/channel-callbacks",
            "SANDBOX_CALLBACK_SECRET": callbackSecret,
        ], ready: "Server started").0
    }
}
