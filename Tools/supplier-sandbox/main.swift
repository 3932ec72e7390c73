import AMQP
import Foundation
import RefundModel

/// Plays any number of supplier systems over AMQP, each with its own credentials, the way a supplier's real system
/// would: it reads its own request queue and publishes replies with its `user_id`. Behaviour per supplier:
///   confirmed | used | partial:<usedBp> | unknown-order | late:<seconds> | silent | twice | garbage | fix
/// (`fix`: a partial answer without its share, refused; on the refusal (`supplier.reply-refused`), a corrected one).
/// A refusal of any reply is logged as "<id> reply refused: …".
///
/// Settings: SANDBOX_SUPPLIERS ("sup-a=confirmed,sup-b=late:5"), SANDBOX_AMQP ("amqp://127.0.0.1:5692/refunds",
/// no credentials), SANDBOX_PASSWORD_PREFIX (supplier <id>'s password is prefix + id), or SANDBOX_PASSWORDS
/// (id=password,…, as the compose file's SUPPLIER_CREDENTIALS) where given.
let env = ProcessInfo.processInfo.environment
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("supplier-sandbox: \(message)\n".utf8))
    exit(2)
}
@Sendable func say(_ message: String) {
    FileHandle.standardError.write(Data("{\"service\":\"supplier-sandbox\",\"msg\":\"\(message)\"}\n".utf8))
}

guard let base = env["SANDBOX_AMQP"], base.hasPrefix("amqp://") else { fail("SANDBOX_AMQP: amqp://host:port/vhost") }
let prefix = env["SANDBOX_PASSWORD_PREFIX"] ?? ""
let passwords = Dictionary((env["SANDBOX_PASSWORDS"] ?? "").split(separator: ",").compactMap { pair -> (String, String)? in
    let p = pair.split(separator: "=", maxSplits: 1)
    return p.count == 2 ? (String(p[0]), String(p[1])) : nil
}) { $1 }
let suppliers: [(String, String)] = (env["SANDBOX_SUPPLIERS"] ?? "").split(separator: ",").compactMap {
    let p = $0.split(separator: "=", maxSplits: 1)
    return p.count == 2 ? (String(p[0]), String(p[1])) : nil
}
if suppliers.isEmpty { fail("SANDBOX_SUPPLIERS: sup-id=behaviour,…") }

/// One thread per supplier; everything a thread needs is in here (no main-actor globals).
struct Sandbox: Sendable {
    let base: String
    let prefix: String
    let passwords: [String: String]

    func url(for supplier: String) throws -> AMQPURL {
        let user = SupplierProtocol.amqpUser(supplier: supplier)
        return try AMQPURL(parsing: base.replacingOccurrences(of: "amqp://", with: "amqp://\(user):\(passwords[supplier] ?? prefix + supplier)@"))
    }

    func reply(_ c: AMQPConnection, supplier: String, _ request: VerificationRequest, _ answer: VerificationReply.Answer,
               usedBp: Int64? = nil, raw: [UInt8]? = nil) throws {
        let r = VerificationReply(requestId: request.requestId, answer: answer,
                                  usedAt: answer == .used ? Date().addingTimeInterval(-3600) : nil,
                                  log: answer == .used ? "activated from 10.0.0.1 on account acct-1" : nil, usedBp: usedBp)
        let e = Envelope(type: SupplierProtocol.replyType, schemaVersion: SupplierProtocol.schemaVersion,
                         correlationId: request.refundId, payload: r)
        let body = try raw ?? [UInt8](MessageCoding.encoder().encode(e))
        let seq = try c.publish(OutgoingMessage(
            exchange: Topology.eventsExchange, routingKey: SupplierProtocol.replyRoutingKey, messageId: e.id.description,
            type: SupplierProtocol.replyType, correlationId: request.refundId,
            userId: SupplierProtocol.amqpUser(supplier: supplier), body: body))
        guard try c.waitForConfirms()[seq] == .confirmed else { throw AMQPError(.connection, "reply not confirmed") }
    }

    /// One supplier's loop: consume its queue, answer as configured, ack after the answer is confirmed.
    func play(_ supplier: String, _ behaviour: String) {
        let parts = behaviour.split(separator: ":")
        while true {
            do {
                let c = try AMQPConnection(url: try url(for: supplier))
                try c.enableConfirms()
                let consumer = try AMQPConnection(url: try url(for: supplier))
                try consumer.consume(queue: Topology.supplierRequestQueue(supplier: supplier).name, prefetch: 10)
                say("\(supplier) consuming as \(behaviour)")
                // Requests by id, for a corrected reply after a refusal (`fix`).
                var asked: [String: VerificationRequest] = [:]
                while true {
                    guard let d = try consumer.nextDelivery(timeoutMillis: 1000) else {
                        try c.serviceHeartbeat()
                        continue
                    }
                    if d.type == SupplierProtocol.replyRefusedType {
                        let refused = try MessageCoding.decoder().decode(Envelope<ReplyRefused>.self,
                                                                         from: Data(d.body)).payload
                        say("\(supplier) reply refused: request \(refused.requestId ?? "-"): \(refused.reason)")
                        if parts[0] == "fix", let id = refused.requestId, let request = asked.removeValue(forKey: id),
                           refused.answerBy != nil {
                            try reply(c, supplier: supplier, request, .confirmed)
                            say("\(supplier) corrected its reply to \(id)")
                        }
                        try consumer.ack(d)
                        continue
                    }
                    let request = try MessageCoding.decoder().decode(Envelope<VerificationRequest>.self,
                                                                     from: Data(d.body)).payload
                    asked[request.requestId] = request
                    say("\(supplier) got request \(request.requestId) for refund \(request.refundId)")
                    switch parts[0] {
                    case "confirmed": try reply(c, supplier: supplier, request, .confirmed)
                    case "used": try reply(c, supplier: supplier, request, .used)
                    case "unknown-order": try reply(c, supplier: supplier, request, .unknownOrder)
                    case "partial": try reply(c, supplier: supplier, request, .partial,
                                              usedBp: parts.count > 1 ? Int64(parts[1]) ?? 5_000 : 5_000)
                    case "late":
                        usleep(UInt32((parts.count > 1 ? Double(parts[1]) ?? 5 : 5) * 1_000_000))
                        try reply(c, supplier: supplier, request, .confirmed)
                    case "twice":
                        try reply(c, supplier: supplier, request, .confirmed)
                        try reply(c, supplier: supplier, request, .confirmed)
                    case "garbage": try reply(c, supplier: supplier, request, .confirmed, raw: Array("{garbage".utf8))
                    // A partial answer without its share used: refused, then corrected (on the refusal).
                    case "fix": try reply(c, supplier: supplier, request, .partial)
                    default: break  // silent: read it, never answer
                    }
                    try consumer.ack(d)
                }
            } catch {
                say("\(supplier) reconnecting after: \(error)")
                sleep(1)
            }
        }
    }
}

let sandbox = Sandbox(base: base, prefix: prefix, passwords: passwords)
for (supplier, behaviour) in suppliers {
    Thread { sandbox.play(supplier, behaviour) }.start()
}
// SIGTERM ends it at once: the sandbox holds nothing that needs a goodbye (unacked requests return to the queue).
// A dispatch source, not the default action: a parent may have left SIGTERM blocked in the mask we inherit.
signal(SIGTERM, SIG_IGN)
let terminate = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
terminate.setEventHandler { exit(0) }
terminate.resume()
while true { sleep(60) }
