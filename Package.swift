// swift-tools-version:6.0
import PackageDescription

// MARK: - Dependencies (offline copies; keep this list short: every package costs CI build minutes)

let swiftLog = Package.Dependency.package(url: "https://github.com/apple/swift-log", from: "1.16.2")
/// Intake's and payout's HTTP server.
let hummingbird = Package.Dependency.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1")
/// The marketplace's signed identity tokens (JWS verification: HS256, RS256, ES256). Its swift-crypto and
/// swift-certificates are already in the build through Hummingbird, so it adds little.
let jwtKit = Package.Dependency.package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1")
/// Metrics: the swift-metrics API everywhere (Hummingbird's request metrics use it too), exposed in Prometheus's
/// text format on each service's health port (`/metrics`).
/// One `ServiceGroup` per process: every loop of a stage and its HTTP server, SIGTERM draining them in order, any
/// one failing ending the process. Already in the build through Hummingbird.
let serviceLifecycle = Package.Dependency.package(url: "https://github.com/swift-server/swift-service-lifecycle",
                                                  from: "2.13.0")
let swiftMetrics = Package.Dependency.package(url: "https://github.com/apple/swift-metrics", from: "2.13.0")
let swiftPrometheus = Package.Dependency.package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1")
/// refundctl's commands, options and help.
let argumentParser = Package.Dependency.package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// MARK: - Targets

let package = Package(
    name: "refund-platform",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "intake", targets: ["Intake"]),
        .executable(name: "auto-review", targets: ["AutoReview"]),
        .executable(name: "supplier-verification", targets: ["SupplierVerification"]),
        .executable(name: "payout", targets: ["Payout"]),
        .executable(name: "notification", targets: ["Notification"]),
        .executable(name: "stage-probe", targets: ["StageProbe"]),
        .executable(name: "refund-demo", targets: ["RefundDemo"]),
        .executable(name: "refund-load", targets: ["RefundLoad"]),
        .executable(name: "supplier-sandbox", targets: ["SupplierSandbox"]),
        .executable(name: "payment-sandbox", targets: ["PaymentSandbox"]),
        .executable(name: "notify-sandbox", targets: ["NotifySandbox"]),
        .executable(name: "refundctl", targets: ["RefundCtl"]),
    ],
    dependencies: [swiftLog, hummingbird, serviceLifecycle, jwtKit, argumentParser, swiftMetrics, swiftPrometheus],
    targets: [
        // MARK: C libraries (Debian: librabbitmq-dev, libpq-dev, libssl-dev for libcrypto's HMAC, libcurl4-openssl-dev for SMTP)
        .systemLibrary(
            name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Shared/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        /// The SMTP send (libcurl's variadic setopt, which Swift cannot call), as a C target of its own.
        .target(name: "CSMTP", dependencies: ["CCurl"], path: "Shared/CSMTP"),
        /// HTTP requests through libcurl (BlockingHTTP: payout's channel calls, notification's SMS, the tools).
        .target(name: "CHTTP", dependencies: ["CCurl"], path: "Shared/CHTTP"),

        // MARK: Shared libraries: C -> wrappers -> runtime -> services
        .target(name: "RefundModel", path: "Shared/RefundModel", swiftSettings: swiftSettings),
        /// Swift strings as C string arrays for the two C wrappers below.
        .target(name: "CStrings", path: "Shared/CStrings", swiftSettings: swiftSettings),
        .target(name: "AMQP", dependencies: ["CRabbitMQ", "CStrings"], path: "Shared/AMQP", swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ", "CStrings"], path: "Shared/Postgres",
                swiftSettings: swiftSettings),
        .target(
            name: "StageRuntime",
            dependencies: ["AMQP", "Postgres", "RefundModel", "CHTTP", "CStrings", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Shared/StageRuntime", swiftSettings: swiftSettings),
        /// A stage that also serves HTTP: intake's API, payout's channel callbacks.
        .target(
            name: "HTTPStage",
            dependencies: ["StageRuntime", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Shared/HTTPStage", swiftSettings: swiftSettings),
        /// HMAC-SHA256 signatures of the payment channels' callbacks (payout verifies, the payment sandbox signs).
        .target(name: "ChannelSigning", dependencies: ["COpenSSL"], path: "Shared/ChannelSigning",
                swiftSettings: swiftSettings),

        // MARK: Services (one executable each)
        .executableTarget(
            name: "Intake",
            dependencies: ["HTTPStage", "ChannelSigning", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "JWTKit", package: "jwt-kit")],
            path: "Services/intake", swiftSettings: swiftSettings),
        .executableTarget(name: "AutoReview", dependencies: ["StageRuntime"], path: "Services/auto-review",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "SupplierVerification", dependencies: ["StageRuntime"],
                          path: "Services/supplier-verification", exclude: ["PROTOCOL.md", "schemas"],
                          swiftSettings: swiftSettings),
        .executableTarget(
            name: "Payout",
            dependencies: ["HTTPStage", "ChannelSigning", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Services/payout", exclude: ["CHANNELS.md"], swiftSettings: swiftSettings),
        .executableTarget(name: "Notification", dependencies: ["StageRuntime", "CSMTP"], path: "Services/notification",
                          swiftSettings: swiftSettings),

        // MARK: Tools
        /// A minimal stage used by the runtime's crash and shutdown tests.
        .executableTarget(name: "StageProbe", dependencies: ["StageRuntime"], path: "Tools/stage-probe",
                          swiftSettings: swiftSettings),

        /// The operators' tool: a refund across the services, dead letters (list, show masked, replay once, discard),
        /// reconciliation, the audit record, suppliers' records, API tokens.
        .executableTarget(name: "RefundCtl",
                          dependencies: ["StageRuntime", "ChannelSigning",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Tools/refundctl", swiftSettings: swiftSettings),

        /// Drives a few refunds through a running system and prints their timelines (scripts/run's last step).
        .executableTarget(name: "RefundDemo", dependencies: ["AMQP", "RefundModel", "StageRuntime"], path: "Tools/demo",
                          exclude: ["world.sh"], swiftSettings: swiftSettings),

        /// A burst of refunds through a running platform, then its invariants checked (scale-out, chaos, bench).
        .executableTarget(name: "RefundLoad", dependencies: ["AMQP", "RefundModel", "ChannelSigning", "StageRuntime"],
                          path: "Tools/refund-load", swiftSettings: swiftSettings),

        /// Plays supplier systems over AMQP, each with its own credentials (confirm, used, partial, late, silent…).
        .executableTarget(name: "SupplierSandbox", dependencies: ["AMQP", "RefundModel"], path: "Tools/supplier-sandbox",
                          swiftSettings: swiftSettings),

        /// Plays the payment channels' refund APIs over HTTP (idempotent request numbers, PROCESSING, ABNORMAL…).
        .executableTarget(name: "PaymentSandbox",
                          dependencies: ["ChannelSigning", .product(name: "Hummingbird", package: "hummingbird")],
                          path: "Tools/payment-sandbox", swiftSettings: swiftSettings),

        /// Plays the SMS gateway (HTTP) and an SMTP server, recording what they received, with settable faults.
        .executableTarget(name: "NotifySandbox", dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
                          path: "Tools/notify-sandbox", swiftSettings: swiftSettings),

        // MARK: Tests
        /// The unit tier: the pure parts (rules, wording, parsing, calendars, the message catalogue, the stage
        /// runtime's routing), no servers, seconds (`swift test --filter UnitTests`). The services' own pure parts
        /// are reached through `@testable import` of their executables.
        .testTarget(name: "UnitTests",
                    dependencies: ["RefundModel", "ChannelSigning", "AMQP", "StageRuntime", "HTTPStage", "Intake",
                                   "Notification", .product(name: "HummingbirdTesting", package: "hummingbird")],
                    path: "Tests/UnitTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "ComponentTests",
            dependencies: ["AMQP", "Postgres", "StageRuntime", "RefundModel", "ChannelSigning"],
            path: "Tests/ComponentTests", swiftSettings: swiftSettings),
    ]
)
