import ArgumentParser
import Foundation
import Postgres
import RefundModel

/// Where a command acts: the database, and which service's schema (or any schema with the runtime's tables, such
/// as the runtime tests' probe stage).
struct Target: ParsableArguments {
    @Option(help: "PostgreSQL URL of an operator login (default: $REFUNDCTL_DATABASE_URL, then $DATABASE_ADMIN_URL).")
    var databaseURL: String?

    @Option(help: "The service: \(ServiceName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var service: String?

    @Option(help: "A schema by name instead of a service.")
    var schema: String?

    /// The schemas named, or every service's when `all` and none is.
    func schemas(all: Bool) throws -> [String] {
        if let schema {
            guard schema.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
                throw ValidationError("a schema is lower-case letters, digits and underscores: \(schema)")
            }
            return [schema]
        }
        if let service {
            guard let s = ServiceName(rawValue: service) else {
                throw ValidationError("unknown service \(service); one of "
                    + ServiceName.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return [s.schema]
        }
        if all { return ServiceName.allCases.map(\.schema) }
        throw ValidationError("name the service (--service) or the schema (--schema)")
    }

    func connect() throws -> PostgresConnection {
        let env = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? env["REFUNDCTL_DATABASE_URL"] ?? env["DATABASE_ADMIN_URL"] else {
            throw ValidationError("no database: pass --database-url or set REFUNDCTL_DATABASE_URL")
        }
        do {
            return try PostgresConnection(url: url, applicationName: "refundctl")
        } catch {
            FileHandle.standardError.write(Data("refundctl: cannot connect to the database: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
