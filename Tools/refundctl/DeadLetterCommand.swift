import ArgumentParser
import Foundation
import Postgres
import StageRuntime

/// `refundctl dlq`: the messages the services dead-lettered, kept with their reason (DeadLetterRecords).
struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Dead letters: list, show (personal data masked), replay once, discard.",
        subcommands: [List.self, Show.self, Replay.self, Discard.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead letters, oldest first (every service's "
            + "unless one is named).")
        @OptionGroup var target: Target
        @Option(help: "held, replayed, discarded or all.") var state = "held"
        @Option(help: "At most this many per schema.") var limit = 100
        @Flag(help: "JSON lines for scripts.") var json = false

        func run() throws {
            guard ["held", "replayed", "discarded", "all"].contains(state) else {
                throw ValidationError("--state is held, replayed, discarded or all")
            }
            let db = try target.connect()
            defer { db.close() }
            var rows: [(String, DeadLetterRecords.Letter)] = []
            for schema in try target.schemas(all: true) {
                let letters = try DeadLetterRecords(schema: schema)
                    .list(state: state == "all" ? nil : state, limit: limit, on: db)
                rows += letters.map { (schema, $0) }
            }
            if json {
                for (schema, l) in rows { print(try Output.json(Output.Listed(schema: schema, letter: l))) }
                return
            }
            Output.table(["SCHEMA", "ID", "QUEUE", "TYPE", "STATE", "DEAD-LETTERED", "PUBLISHER", "REASON"],
                         rows.map { schema, l in
                             [schema, String(l.id), l.queue, l.type, l.state, Output.time(l.deadLetteredAt),
                              l.publisher.isEmpty ? "-" : l.publisher, String(l.reason.prefix(70))]
                         })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead letter with its body, personal data masked.")
        @OptionGroup var target: Target
        @Argument(help: "The record's id (from list).") var id: Int64
        @Flag(help: "JSON for scripts.") var json = false

        func run() throws {
            let db = try target.connect()
            defer { db.close() }
            let (letter, body) = try Output.decided { try DeadLetterRecords(schema: try target.schemas(all: false)[0])
                .show(id: id, on: db) }
            if json {
                print(try Output.json(Output.Shown(letter: letter, maskedBody: body)))
                return
            }
            let fields: [(String, String?)] = [
                ("id", String(letter.id)), ("queue", letter.queue), ("message id", letter.messageId),
                ("type", letter.type), ("routing key", letter.routingKey),
                ("publisher", letter.publisher.isEmpty ? "-" : letter.publisher), ("reason", letter.reason),
                ("dead-lettered", Output.time(letter.deadLetteredAt)), ("state", letter.state),
                ("replayed as", letter.replayMessageId), ("decided", letter.decidedAt.map(Output.time)),
                ("decided by", letter.decidedBy), ("note", letter.decisionNote),
            ]
            for (k, v) in fields { if let v { print(k.padding(toLength: 14, withPad: " ", startingAt: 0) + v) } }
            print("body (masked):")
            print(body ?? "(not kept: larger than MAX_MESSAGE_BYTES)")
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a held dead letter back through its stage, once (the stage judges it as the original).")
        @OptionGroup var target: Target
        @Argument(help: "The record's id (from list).") var id: Int64
        @Option(help: "Who decides (recorded).") var operatorName = ProcessInfo.processInfo.environment["USER"] ?? "operator"
        @Option(help: "Why (recorded).") var note: String?

        func run() throws {
            let db = try target.connect()
            defer { db.close() }
            let schema = try target.schemas(all: false)[0]
            let replayId = try Output.decided {
                try DeadLetterRecords(schema: schema).replay(id: id, by: operatorName, note: note, on: db)
            }
            print("dead letter \(id) replayed as message \(replayId) through \(schema)'s outbox")
        }
    }

    struct Discard: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a held dead letter without replaying it.")
        @OptionGroup var target: Target
        @Argument(help: "The record's id (from list).") var id: Int64
        @Option(help: "Who decides (recorded).") var operatorName = ProcessInfo.processInfo.environment["USER"] ?? "operator"
        @Option(help: "Why (required, recorded).") var reason: String

        func validate() throws {
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason must say why")
            }
        }

        func run() throws {
            let db = try target.connect()
            defer { db.close() }
            let schema = try target.schemas(all: false)[0]
            try Output.decided {
                try DeadLetterRecords(schema: schema).discard(id: id, by: operatorName, note: reason, on: db)
            }
            print("dead letter \(id) discarded")
        }
    }
}
