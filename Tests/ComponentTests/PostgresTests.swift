import Foundation
import Postgres
import Testing

extension Component {
    @Suite("PostgreSQL layer")
    struct PostgresTests {
        static let awkward: [String] = [
            "it's", "\"double\"", "back\\slash", "\\x00 not a byte", "'; DROP TABLE t; --", "Robert'); DROP TABLE x;--",
            "$1 $2 ::bigint", "%s %d {}", "line\nbreak\ttab\r", "中文 退款 ¥499.00", "emoji 🧾💸", "",
            String(repeating: "長", count: 10_000), "\u{1}\u{2}\u{7f}",
        ]

        @Test("awkward text and every byte value are stored and read back verbatim")
        func verbatim() throws {
            let db = try TestStack.database()
            let table = TestStack.unique("t_verbatim")
            try db.simple("CREATE TABLE \(table) (id serial PRIMARY KEY, t text, b bytea, n bigint, at timestamptz)")
            let bytes = PostgresBytes((0...255).map { UInt8($0) })
            let now = Date(timeIntervalSince1970: 1_795_000_000.123456)
            for s in Self.awkward {
                try db.query("INSERT INTO \(table) (t, b, n, at) VALUES ($1, $2::bytea, $3::bigint, $4::timestamptz)",
                             [s, bytes, Int64.min, now])
            }
            let rows = try db.query("SELECT t, b, n, at FROM \(table) ORDER BY id")
            #expect(rows.count == Self.awkward.count)
            for (row, s) in zip(rows, Self.awkward) {
                #expect(try row.string("t") == s)
                #expect(try row.bytes("b") == bytes.bytes)
                #expect(try row.int64("n") == Int64.min)
                #expect(abs(try row.date("at").timeIntervalSince(now)) < 0.000_002)
            }
            // The injection strings were data: the table is still there and whole.
            #expect(try db.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == Self.awkward.count)
            let found = try db.query("SELECT id FROM \(table) WHERE t = $1", ["'; DROP TABLE t; --"])
            #expect(found.count == 1)
            #expect(try db.query("SELECT $1::text IS NULL AS isnull", [nil])[0].bool("isnull"))
            try db.simple("DROP TABLE \(table)")
        }

        @Test("a text array parameter carries awkward elements and NULLs verbatim, in order")
        func textArray() throws {
            let db = try TestStack.database()
            let elements: [String?] = Self.awkward.map { Optional($0) } + [nil, "NULL", "{a,b}", "a,b", " padded ", "\\\"", nil]
            let rows = try db.query("SELECT u, u IS NULL AS missing FROM unnest($1::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n",
                                    [PostgresArray.text(elements)])
            #expect(rows.count == elements.count)
            for (row, e) in zip(rows, elements) {
                #expect(try row.bool("missing") == (e == nil))
                if let e { #expect(try row.string("u") == e) }
            }
            #expect(try db.query("SELECT cardinality($1::text[]) AS n", [PostgresArray.text([])])[0].int("n") == 0)
        }

        @Test("an error inside a transaction rolls everything back")
        func rollback() throws {
            let db = try TestStack.database()
            let table = TestStack.unique("t_rollback")
            try db.simple("CREATE TABLE \(table) (k text PRIMARY KEY)")
            #expect(throws: PostgresError.self) {
                try db.transaction { tx in
                    try tx.query("INSERT INTO \(table) VALUES ($1)", ["a"])
                    try tx.query("INSERT INTO \(table) VALUES ($1)", ["b"])
                    try tx.query("INSERT INTO \(table) VALUES ($1)", ["a"])  // unique violation
                }
            }
            #expect(try db.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 0)
            // A Swift error thrown by the body rolls back too, and the connection stays usable.
            struct Boom: Error {}
            #expect(throws: Boom.self) {
                try db.transaction { tx in
                    try tx.query("INSERT INTO \(table) VALUES ($1)", ["c"])
                    throw Boom()
                }
            }
            #expect(try db.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 0)
            let err = try #require(throws: PostgresError.self) {
                try db.query("INSERT INTO \(table) VALUES ($1), ($1)", ["d"])
            }
            #expect(err.isUniqueViolation && !err.isTransient)
            try db.simple("DROP TABLE \(table)")
        }

        /// The BEGIN goes with the transaction's first statement in one pipeline: the statements still run in one
        /// transaction, a failing first statement still rolls back, and the connection is usable afterwards.
        @Test("a transaction's BEGIN sent with its first statement still makes one transaction")
        func pipelinedBegin() throws {
            let db = try TestStack.database()
            let table = TestStack.unique("t_begin")
            try db.simple("CREATE TABLE \(table) (k text PRIMARY KEY)")
            let (first, second, inBlock) = try db.transaction(.repeatableRead) { tx in
                (try tx.query("SELECT txid_current()::text AS x")[0].string("x"),
                 try tx.query("SELECT txid_current()::text AS x")[0].string("x"),
                 try tx.query("SELECT current_setting('transaction_isolation') AS i")[0].string("i"))
            }
            #expect(first == second)
            #expect(inBlock == "repeatable read")
            // The first statement fails: nothing stays, and the next transaction works.
            #expect(throws: PostgresError.self) {
                try db.transaction { tx in try tx.query("INSERT INTO \(table) VALUES ($1), ($1)", ["a"]) }
            }
            try db.transaction { tx in
                try tx.query("INSERT INTO \(table) VALUES ($1)", ["b"])
                try tx.savepoint { sp in try sp.query("INSERT INTO \(table) VALUES ($1)", ["c"]) }
            }
            // A deferred write that fails fails the statement it went with (or the COMMIT), rolls everything back,
            // and leaves the connection usable — wherever it stands in the pipeline.
            for failAt in 0..<3 {
                let err = try #require(throws: PostgresError.self) {
                    try db.transaction { tx in
                        try tx.deferred("INSERT INTO \(table) VALUES ($1)", ["x\(failAt)"])
                        if failAt == 0 { try tx.deferred("INSERT INTO \(table) VALUES ($1)", ["b"]) }
                        _ = try tx.query("SELECT count(*) AS n FROM \(table)")
                        if failAt == 1 { try tx.deferred("INSERT INTO \(table) VALUES ($1)", ["b"]) }
                        _ = try tx.query("SELECT 1 AS one")
                        if failAt == 2 { try tx.deferred("INSERT INTO \(table) VALUES ($1), ($1)", ["y"]) }
                    }
                }
                #expect(err.isUniqueViolation)
                #expect(try db.query("SELECT count(*) AS n FROM \(table) WHERE k LIKE 'x%' OR k = 'y'")[0].int("n") == 0)
            }
            // A deferred write inside a savepoint that fails undoes only that savepoint.
            try db.transaction { tx in
                try tx.deferred("INSERT INTO \(table) VALUES ($1)", ["d"])
                #expect(throws: PostgresError.self) {
                    try tx.savepoint { sp in try sp.deferred("INSERT INTO \(table) VALUES ($1)", ["b"]) }
                }
                try tx.deferred("INSERT INTO \(table) VALUES ($1)", ["e"])
            }
            try db.simple("DELETE FROM \(table) WHERE k IN ('d', 'e')")
            // A transaction that sends nothing commits nothing and leaves no transaction open.
            try db.transaction { _ in }
            #expect(try db.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 2)
            #expect(try db.query("SELECT txid_current()::text AS x")[0].string("x") != first)
            try db.simple("DROP TABLE \(table)")
        }

        @Test("queryAll runs its statements in order in one pipeline, after what is queued, and reports a failure")
        func queryAllInOrder() throws {
            let db = try TestStack.database()
            let table = TestStack.unique("t_query_all")
            try db.simple("CREATE TABLE \(table) (k text PRIMARY KEY, n int NOT NULL)")
            let upsert = """
                INSERT INTO \(table) AS t (k, n) VALUES ($1, $2::int) ON CONFLICT (k) DO UPDATE SET n = excluded.n
                WHERE t.n < excluded.n RETURNING n
                """
            // Each statement sees what the ones before it (and the queued write) did: as if run one after another.
            let answers = try db.transaction { tx -> [[PostgresRow]] in
                try tx.deferred("INSERT INTO \(table) (k, n) VALUES ($1, 5)", ["a"])
                return try tx.queryAll([(upsert, ["a", 3]), (upsert, ["a", 7]), (upsert, ["a", 6]), (upsert, ["b", 1]),
                                        ("SELECT count(*) AS c FROM \(table)", [])])
            }
            #expect(answers.map(\.count) == [0, 1, 0, 1, 1])
            #expect(try answers[1][0].int("n") == 7)
            #expect(try answers[4][0].int("c") == 2)
            // A failing statement among them fails the call and the transaction; the connection stays usable.
            #expect(throws: PostgresError.self) {
                try db.transaction { tx in
                    _ = try tx.queryAll([(upsert, ["c", 1]), ("SELECT 1 / $1::int AS x", [0]), (upsert, ["d", 1])])
                }
            }
            #expect(try db.query("SELECT count(*) AS c FROM \(table)")[0].int("c") == 2)
            #expect(try db.queryAll([]).isEmpty)
            try db.simple("DROP TABLE \(table)")
        }

        @Test("a serialization failure is retried and the transaction finally commits once")
        func serializationRetry() throws {
            let a = try TestStack.database(), b = try TestStack.database()
            let table = TestStack.unique("t_serial")
            try a.simple("CREATE TABLE \(table) (k int PRIMARY KEY, v int NOT NULL); INSERT INTO \(table) VALUES (1, 0)")
            var attempts = 0
            try a.transaction(.serializable) { tx in
                attempts += 1
                _ = try tx.query("SELECT v FROM \(table) WHERE k = 1")
                if attempts == 1 {
                    // Another writer commits in between: our first attempt must fail with 40001.
                    try b.query("UPDATE \(table) SET v = v + 10 WHERE k = 1")
                }
                try tx.query("UPDATE \(table) SET v = v + 1 WHERE k = 1")
            }
            #expect(attempts == 2)
            #expect(try a.query("SELECT v FROM \(table)")[0].int("v") == 11)
            try a.simple("DROP TABLE \(table)")
        }

        @Test("migrations run twice leave the schema unchanged")
        func migrationsTwice() throws {
            let db = try TestStack.database()
            let schema = TestStack.unique("t_mig")
            let migrations = [
                Migration(1, "one", "CREATE TABLE things (id bigserial PRIMARY KEY, name text NOT NULL)"),
                Migration(2, "two", "ALTER TABLE things ADD COLUMN amount bigint NOT NULL DEFAULT 0"),
            ]
            func snapshot() throws -> [String] {
                try db.query("""
                    SELECT table_name || '.' || column_name || ':' || data_type AS c FROM information_schema.columns
                    WHERE table_schema = $1 ORDER BY table_name, column_name
                    """, [schema]).map { try $0.string("c") }
            }
            #expect(try Migrator.apply(migrations, schema: schema, on: db) == [1, 2])
            let first = try snapshot()
            #expect(try Migrator.apply(migrations, schema: schema, on: db) == [])
            #expect(try snapshot() == first)
            #expect(first.contains("things.amount:bigint"))
            // A later version is applied on top, and only it.
            #expect(try Migrator.apply(migrations + [Migration(3, "three", "CREATE INDEX ON things (name)")],
                                       schema: schema, on: db) == [3])
            try db.simple("DROP SCHEMA \(schema) CASCADE")
        }

        @Test("LISTEN/NOTIFY wakes a waiting connection")
        func notify() throws {
            let listener = try TestStack.database(), sender = try TestStack.database()
            let channel = TestStack.unique("t_chan")
            try listener.listen(channel)
            #expect(try listener.waitForNotifications(timeoutMillis: 50).isEmpty)
            try sender.notify(channel, payload: "hello")
            let got = try listener.waitForNotifications(timeoutMillis: 5000)
            #expect(got.map(\.channel) == [channel])
            #expect(got.map(\.payload) == ["hello"])
        }

        @Test("a bad URL or refused login is an error naming the problem")
        func badConnections() throws {
            #expect(throws: PostgresError.self) { try PostgresConnection(url: "mysql://x") }
            let url = try TestStack.databaseURL().replacingOccurrences(of: "refunds_admin:", with: "nobody:")
            let e = try #require(throws: PostgresError.self) { try PostgresConnection(url: url) }
            #expect(e.code == .connection)
        }
    }
}
