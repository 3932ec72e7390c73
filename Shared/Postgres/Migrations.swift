/// A numbered schema change of one service. Versions only grow; an applied migration is never edited.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies a service's migrations at start-up, once, even when several instances start together: the work runs
/// under a transaction-scoped advisory lock keyed by the schema, and each version is recorded in
/// `<schema>.schema_migrations`, so a second run changes nothing.
public enum Migrator {
    public static func apply(_ migrations: [Migration], schema: String, on db: PostgresConnection) throws -> [Int] {
        try db.transaction { tx in
            try tx.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", ["migrations:" + schema])
            // The schema normally exists already, owned by the service's role (a role without CREATE on the
            // database cannot even run CREATE SCHEMA IF NOT EXISTS); tests and tools may need it made.
            if try tx.query("SELECT 1 AS one FROM pg_namespace WHERE nspname = $1", [schema]).isEmpty {
                try tx.simple("CREATE SCHEMA \(schema)")
            }
            try tx.simple("""
                CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now());
                SET LOCAL search_path = \(schema);
                """)
            let done = Set(try tx.query("SELECT version FROM \(schema).schema_migrations").map { try $0.int("version") })
            var applied: [Int] = []
            for m in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(m.version) {
                try tx.simple(m.sql)
                try tx.query("INSERT INTO \(schema).schema_migrations (version, name) VALUES ($1::int, $2)",
                             [m.version, m.name])
                applied.append(m.version)
            }
            return applied
        }
    }
}
