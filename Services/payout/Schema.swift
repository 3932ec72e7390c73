import Postgres

/// This service's own tables, after the runtime's inbox, outbox and deadlines. Numbered from 100.
enum Schema {
    static let migrations: [Migration] = []
}
