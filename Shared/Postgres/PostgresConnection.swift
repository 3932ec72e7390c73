import CLibPQ
import CStrings
import Foundation

/// One libpq connection. Not thread-safe by design: it is owned by exactly one thread (a stage worker, the outbox
/// relay, a timer loop), so every blocking libpq call stays off Swift's cooperative pool.
///
/// Every statement goes through `PQprepare`/`PQexecPrepared` with `$n` parameters: no value is ever spliced into
/// SQL text, and each distinct statement is parsed once per connection (+60 % measured on a refund transaction).
public final class PostgresConnection {
    private var conn: OpaquePointer?
    private var prepared: [String: String] = [:]
    private var inTransaction = false
    /// Statements of the open transaction not sent yet (its BEGIN, `deferred` writes): they go with the next
    /// statement that needs an answer, in one network write and one round trip (libpq's pipeline mode).
    private var queued: [Queued] = []

    /// Connects from a `postgres://user:pass@host:port/db` URL (libpq parses it). Throws `.connection` on failure.
    public init(url: String, applicationName: String = "refund-platform") throws {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw PostgresError(.badURL, "not a postgres:// URL")
        }
        let full = url + (url.contains("?") ? "&" : "?") + "application_name=\(applicationName)&connect_timeout=5"
        let c = PQconnectdb(full)
        guard let c, PQstatus(c) == CONNECTION_OK else {
            let msg = c.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let c { PQfinish(c) }
            throw PostgresError(.connection, msg.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        conn = c
        // Server notices ("already exists, skipping") would go to stderr unstructured; warnings still come as errors.
        try simple("SET client_min_messages TO warning")
    }

    deinit { close() }

    public func close() {
        if let c = conn { PQfinish(c) }
        conn = nil
    }

    /// False once the server or the network dropped us; the owner then opens a new connection.
    public var isHealthy: Bool {
        guard let c = conn else { return false }
        return PQstatus(c) == CONNECTION_OK
    }

    private func handle() throws -> OpaquePointer {
        guard let c = conn, PQstatus(c) == CONNECTION_OK else {
            throw PostgresError(.connection, "connection is closed")
        }
        return c
    }

    // MARK: - Statements

    /// Runs one parameterized statement and returns its rows (empty for commands).
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresBindable?] = []) throws -> [PostgresRow] {
        let c = try handle()
        return try consume(try execPrepared(sql, params, on: c), on: c)
    }

    /// Runs one statement and returns the number of rows it changed (`UPDATE … WHERE state = $2` compare-and-set).
    @discardableResult
    public func execute(_ sql: String, _ params: [PostgresBindable?] = []) throws -> Int {
        let c = try handle()
        let result = try execPrepared(sql, params, on: c)
        defer { PQclear(result) }
        try check(result, on: c)
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// A statement of the open transaction whose answer nobody reads (an INSERT of a record, a wake-up): queued, and
    /// sent with the next statement that needs an answer, or with the COMMIT, in one network write and one round
    /// trip (libpq's pipeline mode). Its error surfaces there, as that statement's error: the transaction fails as it
    /// would have, one statement later. Outside a transaction it runs at once.
    public func deferred(_ sql: String, _ params: [PostgresBindable?] = []) throws {
        let c = try handle()
        guard inTransaction else {
            let r = try execPrepared(sql, params, on: c)
            defer { PQclear(r) }
            try check(r, on: c)
            return
        }
        queued.append(.prepared(try preparedName(for: sql, paramCount: params.count, on: c),
                                params.map { $0?.postgresText }))
    }

    /// A statement not sent yet: prepared (with its parameters) or text without parameters (BEGIN, SAVEPOINT, COMMIT).
    private enum Queued {
        case prepared(String, [String?])
        case text(String)

        func send(on c: OpaquePointer) -> Bool {
            switch self {
            case .prepared(let name, let texts):
                return withCStrings(texts) { ptrs in PQsendQueryPrepared(c, name, Int32(ptrs.count), ptrs, nil, nil, 0) } == 1
            case .text(let sql):
                return PQsendQueryParams(c, sql, 0, nil, nil, nil, nil, 0) == 1
            }
        }
    }

    /// The statement's result, after whatever the transaction has queued (its BEGIN, deferred writes).
    private func execPrepared(_ sql: String, _ params: [PostgresBindable?], on c: OpaquePointer) throws -> OpaquePointer? {
        // Prepared outside the pipeline (a prepared statement belongs to the session, not to the transaction).
        let name = try preparedName(for: sql, paramCount: params.count, on: c)
        let texts = params.map { $0?.postgresText }
        if queued.isEmpty {
            return withCStrings(texts) { ptrs in PQexecPrepared(c, name, Int32(ptrs.count), ptrs, nil, nil, 0) }
        }
        return try flush(then: .prepared(name, texts), on: c)
    }

    /// Sends the queued statements and `last` in one pipeline with one sync, reads every result, and returns
    /// `last`'s. The first failure among them is thrown (the ones after it come back "aborted").
    private func flush(then last: Queued, on c: OpaquePointer) throws -> OpaquePointer? {
        try flush(then: [last], on: c)[0]
    }

    /// Sends the queued statements and `lasts` in one pipeline with one sync, reads every result, and returns
    /// `lasts`' results, in order (the caller's to clear). A failure among the queued ones is thrown here; one among
    /// `lasts` is in its result (the ones after it come back "aborted").
    private func flush(then lasts: [Queued], on c: OpaquePointer) throws -> [OpaquePointer?] {
        let batch = queued + lasts
        let queuedCount = queued.count
        queued.removeAll()
        guard PQenterPipelineMode(c) == 1 else { throw PostgresError(.connection, String(cString: PQerrorMessage(c))) }
        var results: [OpaquePointer?] = []
        var handedOver = false
        defer { if !handedOver { results.forEach { PQclear($0) } } }
        let sent = batch.allSatisfy({ $0.send(on: c) }) && PQpipelineSync(c) == 1
        if sent {
            // Each statement's result, then NULL; after all of them the sync's own result.
            for _ in batch {
                results.append(PQgetResult(c))
                while let extra = PQgetResult(c) { PQclear(extra) }
            }
            if let sync = PQgetResult(c) { PQclear(sync) }
        }
        // A pipeline left half-sent or half-read (a broken connection) cannot take the next statement: the
        // connection is dropped here, before anything else looks at it, and its owner reconnects.
        guard sent, PQexitPipelineMode(c) == 1 else {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            close()
            throw PostgresError(.connection, message.isEmpty ? "pipeline left unfinished" : message)
        }
        // The first failure is the one to report (the statements after it come back "aborted").
        for r in results.prefix(queuedCount)
        where r == nil || ![PGRES_COMMAND_OK, PGRES_TUPLES_OK].contains(PQresultStatus(r)) {
            try check(r, on: c)
            throw PostgresError(.query, "a queued statement failed")
        }
        results.prefix(queuedCount).forEach { PQclear($0) }
        handedOver = true
        return Array(results.dropFirst(queuedCount))
    }

    /// Runs statements that each need an answer in one round trip (after whatever the transaction has queued), in
    /// order, exactly as if run one after another: each one's rows. For a consumer window whose messages each ask
    /// the same question (one round trip instead of one per message). The first failure is thrown.
    public func queryAll(_ statements: [(sql: String, params: [PostgresBindable?])]) throws -> [[PostgresRow]] {
        guard !statements.isEmpty else { return [] }
        let c = try handle()
        // Prepared outside the pipeline (a prepared statement belongs to the session, not to the transaction).
        let lasts = try statements.map {
            Queued.prepared(try preparedName(for: $0.sql, paramCount: $0.params.count, on: c), $0.params.map { $0?.postgresText })
        }
        var results = try flush(then: lasts, on: c)[...]
        defer { results.forEach { PQclear($0) } }
        var rows: [[PostgresRow]] = []
        while let r = results.popFirst() { rows.append(try consume(r, on: c)) }  // consume clears its own
        return rows
    }

    /// Runs SQL text with no parameters (DDL in migrations, `LISTEN`, `COMMIT`, savepoints); several statements
    /// allowed when nothing is queued. Inside a transaction, what is queued goes first, in the same round trip.
    public func simple(_ sql: String) throws {
        let c = try handle()
        if !queued.isEmpty {
            let r = try flush(then: .text(sql), on: c)
            defer { PQclear(r) }
            try check(r, on: c)
            return
        }
        let r = PQexec(c, sql)
        defer { PQclear(r) }
        try check(r, on: c)
    }

    private func preparedName(for sql: String, paramCount: Int, on c: OpaquePointer) throws -> String {
        if let n = prepared[sql] { return n }
        let name = "s\(prepared.count + 1)"
        let r = PQprepare(c, name, sql, 0, nil)
        defer { PQclear(r) }
        try check(r, on: c)
        prepared[sql] = name
        return name
    }

    private func consume(_ result: OpaquePointer?, on c: OpaquePointer) throws -> [PostgresRow] {
        defer { PQclear(result) }
        try check(result, on: c)
        guard let r = result, PQresultStatus(r) == PGRES_TUPLES_OK else { return [] }
        let nf = PQnfields(r), nt = PQntuples(r)
        var columns: [String: Int] = [:]
        for f in 0..<nf { columns[String(cString: PQfname(r, f))] = Int(f) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(nt))
        for t in 0..<nt {
            var values: [String?] = []
            values.reserveCapacity(Int(nf))
            for f in 0..<nf {
                values.append(PQgetisnull(r, t, f) == 1 ? nil : String(cString: PQgetvalue(r, t, f)))
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return rows
    }

    private func check(_ result: OpaquePointer?, on c: OpaquePointer) throws {
        guard let r = result else {
            throw PostgresError(.connection, String(cString: PQerrorMessage(c)))
        }
        switch PQresultStatus(r) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let msg = String(cString: PQresultErrorMessage(r)).trimmingCharacters(in: .whitespacesAndNewlines)
            if PQstatus(c) != CONNECTION_OK {
                prepared = [:]
                throw PostgresError(.connection, sqlState: state, msg)
            }
            throw PostgresError(.query, sqlState: state, msg)
        }
    }

    // MARK: - Transactions

    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in one transaction: all of it commits or none of it does. A serialization failure or deadlock
    /// rolls back and runs `body` again (up to `attempts` times), so `body` must not have effects outside the
    /// database. Nested calls are refused: use `savepoint` inside.
    public func transaction<T>(_ isolation: Isolation = .readCommitted, attempts: Int = 5,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        precondition(!inTransaction, "nested transaction: use savepoint")
        var attempt = 0
        while true {
            attempt += 1
            do {
                // The BEGIN goes with the transaction's first statement.
                queued = [.text("BEGIN ISOLATION LEVEL \(isolation.rawValue)")]
                inTransaction = true
                let value = try body(self)
                if queued.count == 1, case .text = queued[0] {
                    queued.removeAll()  // nothing was sent: nothing to commit
                } else {
                    try simple("COMMIT")
                }
                inTransaction = false
                return value
            } catch let error as PostgresError {
                inTransaction = false
                if beganNothing() { queued.removeAll() } else if isHealthy { try? simple("ROLLBACK") }
                if error.isSerializationConflict && attempt < attempts {
                    // Jittered pause so two conflicting writers do not collide again in lockstep.
                    usleep(UInt32.random(in: 1_000...(5_000 * UInt32(attempt))))
                    continue
                }
                throw error
            } catch {
                inTransaction = false
                if beganNothing() { queued.removeAll() } else if isHealthy { try? simple("ROLLBACK") }
                throw error
            }
        }
    }

    /// Whether the failed transaction never reached the server (only its BEGIN is queued); otherwise what is queued
    /// is dropped and a ROLLBACK sent.
    private func beganNothing() -> Bool {
        if queued.count == 1, case .text = queued[0] { return true }
        queued.removeAll()
        return false
    }

    /// Runs `body` under a savepoint of the current transaction: if it throws, only its own writes are undone.
    public func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try simple("SAVEPOINT sp")
        do {
            let v = try body(self)
            try simple("RELEASE SAVEPOINT sp")
            return v
        } catch {
            // Statements queued after the SAVEPOINT (it flushed what came before) belong to the failed part.
            queued.removeAll()
            if isHealthy { try? simple("ROLLBACK TO SAVEPOINT sp") }
            throw error
        }
    }

    // MARK: - LISTEN / NOTIFY

    public struct Notification: Sendable, Equatable {
        public let channel: String
        public let payload: String
    }

    /// Subscribes this connection to a channel. Channel names are identifiers, so only `[a-z0-9_]` is accepted.
    public func listen(_ channel: String) throws {
        guard !channel.isEmpty, channel.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
        else { throw PostgresError(.query, "bad channel name") }
        try simple("LISTEN \(channel)")
    }

    public func notify(_ channel: String, payload: String = "") throws {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Waits up to `timeoutMillis` for notifications on channels this connection listens to.
    public func waitForNotifications(timeoutMillis: Int32) throws -> [Notification] {
        let c = try handle()
        var found = drainNotifications(c)
        if !found.isEmpty { return found }
        // A server that went away shows here first (the drain's read failed): say so, rather than wait on a
        // closed socket and report "no notifications".
        guard PQstatus(c) == CONNECTION_OK else {
            throw PostgresError(.connection, String(cString: PQerrorMessage(c)))
        }
        var pfd = pollfd(fd: PQsocket(c), events: Int16(POLLIN), revents: 0)
        let n = poll(&pfd, 1, timeoutMillis)
        if n > 0 {
            guard PQconsumeInput(c) == 1 else {
                throw PostgresError(.connection, String(cString: PQerrorMessage(c)))
            }
            found = drainNotifications(c)
        }
        return found
    }

    private func drainNotifications(_ c: OpaquePointer) -> [Notification] {
        _ = PQconsumeInput(c)
        var out: [Notification] = []
        while let n = PQnotifies(c) {
            out.append(Notification(channel: String(cString: n.pointee.relname),
                                    payload: String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }
}
