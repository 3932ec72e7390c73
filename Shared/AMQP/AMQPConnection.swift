import CRabbitMQ
import CStrings
import Foundation

/// One AMQP connection with one channel, owned by exactly one thread (rabbitmq-c is not thread-safe and services
/// heartbeats only inside its own calls, so the owner must call in at least every few seconds: `nextDelivery`,
/// `waitForConfirms` and `serviceHeartbeat` all do).
///
/// Publishing and consuming are meant for different connections: a publisher's confirms and a consumer's deliveries
/// would otherwise arrive interleaved on one socket.
public final class AMQPConnection {
    private var conn: amqp_connection_state_t?
    private let channel: amqp_channel_t = 1
    /// Publisher-confirm bookkeeping: sequence number of the next publish, and what is still awaiting an answer.
    private var nextSequence: UInt64 = 1
    private var confirmsEnabled = false
    private var pending: [UInt64: String] = [:]
    private var sequenceByMessageId: [String: UInt64] = [:]
    private var returned: [UInt64: (Int, String)] = [:]
    private var resolved: [UInt64: PublishOutcome] = [:]

    private static let generationCounter = GenerationCounter()
    /// Distinguishes this connection from its predecessors, so a delivery tag of a dead channel is never acked here.
    public let generation: UInt64

    /// Connects to the first of the URL's nodes that answers, trying them in turn from one further than the
    /// previous connection of this process started: after a node is lost, reconnecting moves to the next one, and
    /// a process's connections spread over a cluster.
    public init(url: AMQPURL, heartbeatSeconds: Int32 = 30, connectTimeoutMillis: Int = 5000) throws {
        generation = Self.generationCounter.next()
        let start = Int(generation % UInt64(url.endpoints.count))
        var lastError: Error = AMQPError(.connection, "no broker address")
        for i in 0..<url.endpoints.count {
            let endpoint = url.endpoints[(start + i) % url.endpoints.count]
            do {
                conn = try Self.open(url, endpoint, heartbeatSeconds: heartbeatSeconds,
                                     connectTimeoutMillis: connectTimeoutMillis)
                self.endpoint = endpoint
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The node this connection went to.
    public private(set) var endpoint: AMQPURL.Endpoint?

    private static func open(_ url: AMQPURL, _ endpoint: AMQPURL.Endpoint, heartbeatSeconds: Int32,
                             connectTimeoutMillis: Int) throws -> amqp_connection_state_t {
        guard let c = amqp_new_connection() else { throw AMQPError(.connection, "out of memory") }
        let socket: OpaquePointer
        do { socket = try Self.socket(for: url, on: c) } catch {
            amqp_destroy_connection(c)
            throw error
        }
        var tv = crmq_timeval(connectTimeoutMillis)
        let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &tv)
        guard status == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(c)
            if url.tls != nil, Self.isTLSFailure(status) {
                // Name what to check: a wrong CA and a name mismatch both end here.
                throw AMQPError(.tls, "TLS handshake with \(endpoint.host):\(endpoint.port) failed: "
                    + "\(Self.statusText(status)) (is the server's certificate for \(endpoint.host) and signed by the "
                    + "CA in the URL's cacertfile?)")
            }
            throw AMQPError(.connection, "cannot connect to \(endpoint.host):\(endpoint.port): \(Self.statusText(status))")
        }
        let login = crmq_login(c, url.vhost, 0, 131_072, heartbeatSeconds, url.user, url.password)
        guard login.reply_type == AMQP_RESPONSE_NORMAL else {
            let text = Self.replyText(login)
            amqp_destroy_connection(c)
            throw AMQPError(.connection, "login as \(url.user) to vhost \(url.vhost) refused: \(text)")
        }
        amqp_channel_open(c, 1)
        let r = amqp_get_rpc_reply(c)
        guard r.reply_type == AMQP_RESPONSE_NORMAL else {
            amqp_destroy_connection(c)
            throw AMQPError(.connection, "channel.open failed: \(Self.replyText(r))")
        }
        return c
    }

    deinit { close() }

    /// A TCP socket, or a TLS one that verifies the server (its certificate chain against the CA file, and its name)
    /// and presents a client certificate when the URL names one.
    private static func socket(for url: AMQPURL, on c: amqp_connection_state_t) throws -> OpaquePointer {
        guard let tls = url.tls else {
            guard let s = amqp_tcp_socket_new(c) else { throw AMQPError(.connection, "cannot create socket") }
            return s
        }
        guard let s = amqp_ssl_socket_new(c) else { throw AMQPError(.tls, "cannot create a TLS socket") }
        guard amqp_ssl_socket_set_cacert(s, tls.caCertFile) == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.tls, "cannot read the CA file \(tls.caCertFile) (the URL's cacertfile)")
        }
        if let cert = tls.certFile, let key = tls.keyFile {
            guard amqp_ssl_socket_set_key(s, cert, key) == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(.tls, "cannot read the client certificate \(cert) or its key \(key)")
            }
        }
        amqp_ssl_socket_set_verify_peer(s, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(s, tls.verifyPeer ? 1 : 0)
        return s
    }

    private static func isTLSFailure(_ status: Int32) -> Bool {
        [AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue,
         AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue].contains(status)
    }

    /// Closes politely (channel, connection). Unacked deliveries return to their queues.
    public func close() {
        guard let c = conn else { return }
        conn = nil
        _ = amqp_channel_close(c, channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(c, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(c)
    }

    /// Drops the socket without any AMQP goodbye, as a crash would. For tests of redelivery.
    public func abort() {
        guard let c = conn else { return }
        conn = nil
        amqp_destroy_connection(c)
    }

    public var isOpen: Bool { conn != nil }

    private func handle() throws -> amqp_connection_state_t {
        guard let c = conn else { throw AMQPError(.connection, "connection is closed") }
        return c
    }

    /// After any failure the connection is unusable: close it so the owner reconnects.
    private func fail(_ error: AMQPError) -> AMQPError {
        if let c = conn {
            conn = nil
            amqp_destroy_connection(c)
        }
        return error
    }

    private func checkRPC(_ what: String) throws {
        let c = try handle()
        let r = amqp_get_rpc_reply(c)
        guard r.reply_type == AMQP_RESPONSE_NORMAL else { throw fail(Self.error(from: r, what: what)) }
    }

    // MARK: - Topology

    public func declareExchange(_ name: String, type: String) throws {
        let c = try handle()
        crmq_exchange_declare(c, channel, name, type)
        try checkRPC("exchange.declare \(name)")
    }

    /// Declares a durable queue: quorum with a dead-letter route and delivery limit, or classic when `quorum` is off
    /// (DLQs are quorum too, without their own dead-letter route).
    /// A durable queue. A quorum queue (replicated, with a delivery limit) may dead-letter, at least once, to
    /// `deadLetterExchange` under `deadLetterRoutingKey`; it then refuses publishes when full rather than dropping
    /// its oldest messages (`reject-publish`), so a publisher's confirm says whether a message is really in.
    public func declareQueue(_ name: String, quorum: Bool = true, deadLetterExchange: String? = nil,
                             deadLetterRoutingKey: String? = nil, deliveryLimit: Int = 0) throws {
        var strings: [(String, String)] = [], ints: [(String, Int64)] = []
        if quorum {
            strings.append(("x-queue-type", "quorum"))
            if let dlx = deadLetterExchange, !dlx.isEmpty {
                strings += [("x-dead-letter-exchange", dlx), ("x-dead-letter-routing-key", deadLetterRoutingKey ?? ""),
                            ("x-dead-letter-strategy", "at-least-once"), ("x-overflow", "reject-publish")]
            }
            if deliveryLimit > 0 { ints.append(("x-delivery-limit", Int64(deliveryLimit))) }
        }
        let c = try handle()
        let intValues = ints.map(\.1)
        let rc = withCStrings(strings.map(\.0)) { sk in
            withCStrings(strings.map(\.1)) { sv in
                withCStrings(ints.map(\.0)) { ik in
                    var sk = sk, sv = sv, ik = ik
                    return intValues.withUnsafeBufferPointer { iv in
                        crmq_declare_queue(c, channel, name, &sk, &sv, Int32(strings.count), &ik, iv.baseAddress,
                                           Int32(ints.count))
                    }
                }
            }
        }
        if rc != 0 { try checkRPC("queue.declare \(name)") }
    }

    public func bindQueue(_ queue: String, exchange: String, routingKey: String) throws {
        let c = try handle()
        crmq_queue_bind(c, channel, queue, exchange, routingKey)
        try checkRPC("queue.bind \(queue) \(routingKey)")
    }

    /// Empties a queue; returns how many messages it dropped. For tests and operator tools.
    @discardableResult
    public func purgeQueue(_ queue: String) throws -> Int {
        let c = try handle()
        let n = crmq_queue_purge(c, channel, queue)
        try checkRPC("queue.purge \(queue)")
        return max(0, n)
    }

    public func deleteQueue(_ queue: String) throws {
        let c = try handle()
        crmq_queue_delete(c, channel, queue)
        try checkRPC("queue.delete \(queue)")
    }

    // MARK: - Publishing with confirms

    /// Puts the channel in confirm mode; every later publish gets an ack, a nack, or a return then an ack.
    public func enableConfirms() throws {
        let c = try handle()
        amqp_confirm_select(c, channel)
        try checkRPC("confirm.select")
        confirmsEnabled = true
        nextSequence = 1
    }

    /// Sends one message and returns its confirm sequence number. The outcome comes from `waitForConfirms`.
    @discardableResult
    public func publish(_ m: OutgoingMessage, mandatory: Bool = true) throws -> UInt64 {
        let c = try handle()
        let keys = Array(m.headers.keys)
        let values = keys.map { m.headers[$0]! }
        let rc: Int32 = withCStrings(keys) { kp in
            withCStrings(values) { vp in
                var k = kp, v = vp
                return m.body.withUnsafeBytes { body in
                    crmq_publish(c, channel, m.exchange, m.routingKey, mandatory ? 1 : 0, m.messageId, m.type,
                                 m.correlationId ?? "", m.userId ?? "", m.timestamp, &k, &v, Int32(keys.count),
                                 body.baseAddress, body.count)
                }
            }
        }
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw fail(AMQPError(.connection, "publish failed: \(Self.statusText(rc))"))
        }
        let seq = nextSequence
        if confirmsEnabled {
            nextSequence += 1
            pending[seq] = m.messageId
            sequenceByMessageId[m.messageId] = seq
        }
        return seq
    }

    /// Reads the broker's answers until every publish so far is settled, and returns them by sequence number.
    /// Handles `basic.ack`/`basic.nack` with `multiple`, `basic.return` (matched to its publish by message id) and
    /// channel or connection close (thrown: the unsettled publishes' fate is unknown and the caller republishes).
    public func waitForConfirms(timeoutMillis: Int = 10_000) throws -> [UInt64: PublishOutcome] {
        let c = try handle()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMillis) * 1_000_000
        while !pending.isEmpty {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw fail(AMQPError(.timeout, "\(pending.count) publishes unconfirmed after \(timeoutMillis) ms"))
            }
            var frame = amqp_frame_t()
            var tv = crmq_timeval(Int((deadline - now) / 1_000_000) + 1)
            let rc = amqp_simple_wait_frame_noblock(c, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard rc == AMQP_STATUS_OK.rawValue else {
                throw fail(AMQPError(.connection, "waiting for confirms: \(Self.statusText(rc))"))
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            try handleMethod(frame.payload.method, on: c)
        }
        let out = resolved
        resolved = [:]
        return out
    }

    private func handleMethod(_ method: amqp_method_t, on c: amqp_connection_state_t) throws {
        switch Int(method.id) {
        case Int(CRMQ_BASIC_ACK):
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0) { seq in
                if let r = self.returned.removeValue(forKey: seq) { return .returned(replyCode: r.0, replyText: r.1) }
                return .confirmed
            }
        case Int(CRMQ_BASIC_NACK):
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0) { seq in
                self.returned.removeValue(forKey: seq)
                return .nacked
            }
        case Int(CRMQ_BASIC_RETURN):
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let code = Int(ret.reply_code)
            let text = Self.string(ret.reply_text)
            var message = amqp_message_t()
            let r = amqp_read_message(c, channel, &message, 0)
            guard r.reply_type == AMQP_RESPONSE_NORMAL else { throw fail(Self.error(from: r, what: "basic.return")) }
            let props = message.properties
            if props._flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0,
               let seq = sequenceByMessageId[Self.string(props.message_id)] {
                returned[seq] = (code, text)
            }
            amqp_destroy_message(&message)
        case Int(CRMQ_CHANNEL_CLOSE):
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw fail(AMQPError(.channelClosed, replyCode: Int(close.reply_code), Self.string(close.reply_text)))
        case Int(CRMQ_CONNECTION_CLOSE):
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw fail(AMQPError(.connectionClosed, replyCode: Int(close.reply_code), Self.string(close.reply_text)))
        case Int(CRMQ_BASIC_CANCEL):
            throw fail(AMQPError(.consumerCancelled, "broker cancelled the consumer"))
        default:
            break
        }
    }

    private func settle(upTo tag: UInt64, multiple: Bool, _ outcome: (UInt64) -> PublishOutcome) {
        let seqs = multiple ? pending.keys.filter { $0 <= tag } : (pending[tag] != nil ? [tag] : [])
        for seq in seqs {
            if let id = pending.removeValue(forKey: seq) { sequenceByMessageId.removeValue(forKey: id) }
            resolved[seq] = outcome(seq)
        }
    }

    // MARK: - Consuming

    /// The running consumer (one per connection), so its prefetch can be changed by starting it again.
    private var consumer: (queue: String, tag: String)?

    /// Starts a manual-ack consumer with at most `prefetch` unacked deliveries in flight.
    public func consume(queue: String, prefetch: UInt16) throws {
        let c = try handle()
        amqp_basic_qos(c, channel, 0, prefetch, 0)
        try checkRPC("basic.qos")
        let tag = "\(queue).\(UUID().uuidString.prefix(8).lowercased())"
        crmq_basic_consume(c, channel, queue, tag)
        try checkRPC("basic.consume \(queue)")
        consumer = (queue, tag)
    }

    /// Gives the running consumer a new prefetch. RabbitMQ fixes a (non-global) prefetch when a consumer starts:
    /// a later basic.qos reaches only consumers started after it, so the consumer is cancelled and started again
    /// on the same channel. Deliveries already received stay unacked on the channel and are acked as before; one
    /// the broker sends while the cancel is on its way is kept by rabbitmq-c and returned by `nextDelivery`.
    public func setPrefetch(_ prefetch: UInt16) throws {
        guard let running = consumer else { throw AMQPError(.connection, "setPrefetch without a consumer") }
        let c = try handle()
        crmq_basic_cancel(c, channel, running.tag)
        try checkRPC("basic.cancel \(running.queue)")
        consumer = nil
        try consume(queue: running.queue, prefetch: prefetch)
    }

    /// The next delivery, or nil when none came within `timeoutMillis`. Services heartbeats while it waits.
    public func nextDelivery(timeoutMillis: Int) throws -> Delivery? {
        let c = try handle()
        amqp_maybe_release_buffers(c)
        var envelope = amqp_envelope_t()
        var tv = crmq_timeval(timeoutMillis)
        let r = amqp_consume_message(c, &envelope, &tv, 0)
        if r.reply_type == AMQP_RESPONSE_NORMAL {
            defer { amqp_destroy_envelope(&envelope) }
            return makeDelivery(envelope)
        }
        if r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if r.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if r.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // Something other than a delivery: a close, a cancel. Read it and turn it into an error.
                var frame = amqp_frame_t()
                var zero = crmq_timeval(100)
                let rc = amqp_simple_wait_frame_noblock(c, &frame, &zero)
                if rc == AMQP_STATUS_OK.rawValue, frame.frame_type == UInt8(AMQP_FRAME_METHOD) {
                    try handleMethod(frame.payload.method, on: c)
                }
                return nil
            }
        }
        throw fail(Self.error(from: r, what: "basic.consume"))
    }

    /// Lets rabbitmq-c send and check heartbeats while the owner is busy elsewhere (waiting on PostgreSQL).
    public func serviceHeartbeat() throws {
        let c = try handle()
        var frame = amqp_frame_t()
        var zero = crmq_timeval(0)
        let rc = amqp_simple_wait_frame_noblock(c, &frame, &zero)
        if rc == AMQP_STATUS_TIMEOUT.rawValue { return }
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw fail(AMQPError(.connection, "heartbeat: \(Self.statusText(rc))"))
        }
        if frame.frame_type == UInt8(AMQP_FRAME_METHOD) { try handleMethod(frame.payload.method, on: c) }
    }

    /// Acks `delivery` (and with `multiple`, every earlier one on this channel). A tag from another connection
    /// generation is ignored: that channel is gone and the broker has already requeued the message.
    public func ack(_ delivery: Delivery, multiple: Bool = false) throws {
        guard delivery.generation == generation else { return }
        let c = try handle()
        let rc = amqp_basic_ack(c, channel, delivery.deliveryTag, multiple ? 1 : 0)
        guard rc == AMQP_STATUS_OK.rawValue else { throw fail(AMQPError(.connection, "ack: \(Self.statusText(rc))")) }
    }

    /// Rejects a delivery: with `requeue` it comes back (counting towards the queue's delivery limit); without, the
    /// broker dead-letters it.
    public func reject(_ delivery: Delivery, requeue: Bool) throws {
        guard delivery.generation == generation else { return }
        let c = try handle()
        let rc = amqp_basic_reject(c, channel, delivery.deliveryTag, requeue ? 1 : 0)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw fail(AMQPError(.connection, "reject: \(Self.statusText(rc))"))
        }
    }

    private func makeDelivery(_ e: amqp_envelope_t) -> Delivery {
        let p = e.message.properties
        func prop(_ flag: Int32, _ b: amqp_bytes_t) -> String? {
            p._flags & amqp_flags_t(flag) != 0 ? Self.string(b) : nil
        }
        var headers: [String: String] = [:]
        if p._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = p.headers.entries {
            for i in 0..<Int(p.headers.num_entries) {
                let entry = entries[i]
                if let v = Self.fieldText(entry.value) { headers[Self.string(entry.key)] = v }
            }
            // Whatever a publisher set under this name, the broker's latest death record decides it.
            headers[Delivery.deathRoutingKeyHeader] = Self.latestDeathRoutingKey(p.headers)
        }
        let body: [UInt8]
        if e.message.body.len > 0, let base = e.message.body.bytes {
            body = Array(UnsafeRawBufferPointer(start: base, count: e.message.body.len))
        } else {
            body = []
        }
        return Delivery(
            deliveryTag: e.delivery_tag, redelivered: e.redelivered != 0, exchange: Self.string(e.exchange),
            routingKey: Self.string(e.routing_key), messageId: prop(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id),
            type: prop(AMQP_BASIC_TYPE_FLAG, p.type), correlationId: prop(AMQP_BASIC_CORRELATION_ID_FLAG,
                                                                           p.correlation_id),
            userId: prop(AMQP_BASIC_USER_ID_FLAG, p.user_id), headers: headers, body: body, generation: generation)
    }

    // MARK: - C helpers

    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let base = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: b.len), as: UTF8.self)
    }

    /// Header values we read: strings and integers (x-delivery-count, x-death counts are integers).
    static func fieldText(_ v: amqp_field_value_t) -> String? {
        switch Int32(v.kind) {
        case Int32(AMQP_FIELD_KIND_UTF8.rawValue), Int32(AMQP_FIELD_KIND_BYTES.rawValue):
            return string(v.value.bytes)
        case Int32(AMQP_FIELD_KIND_I64.rawValue): return String(v.value.i64)
        case Int32(AMQP_FIELD_KIND_U64.rawValue): return String(v.value.u64)
        case Int32(AMQP_FIELD_KIND_I32.rawValue): return String(v.value.i32)
        case Int32(AMQP_FIELD_KIND_U32.rawValue): return String(v.value.u32)
        case Int32(AMQP_FIELD_KIND_I16.rawValue): return String(v.value.i16)
        case Int32(AMQP_FIELD_KIND_I8.rawValue): return String(v.value.i8)
        default: return nil
        }
    }

    /// The routing key a dead-lettered message was first published under: `x-death` is an array of tables, the
    /// latest death first (the one the broker just wrote), each with `routing-keys`, an array of strings.
    static func latestDeathRoutingKey(_ table: amqp_table_t) -> String? {
        guard let entries = table.entries else { return nil }
        for i in 0..<Int(table.num_entries) where string(entries[i].key) == "x-death" {
            let deaths = entries[i].value
            guard deaths.kind == UInt8(AMQP_FIELD_KIND_ARRAY.rawValue), deaths.value.array.num_entries > 0,
                  let latest = deaths.value.array.entries?.pointee,
                  latest.kind == UInt8(AMQP_FIELD_KIND_TABLE.rawValue),
                  let fields = latest.value.table.entries else { return nil }
            for k in 0..<Int(latest.value.table.num_entries) where string(fields[k].key) == "routing-keys" {
                let keys = fields[k].value
                guard keys.kind == UInt8(AMQP_FIELD_KIND_ARRAY.rawValue), keys.value.array.num_entries > 0,
                      let first = keys.value.array.entries?.pointee else { return nil }
                return fieldText(first)
            }
        }
        return nil
    }

    static func statusText(_ status: Int32) -> String { String(cString: amqp_error_string2(status)) }

    static func replyText(_ r: amqp_rpc_reply_t) -> String { error(from: r, what: "").message }

    static func error(from r: amqp_rpc_reply_t, what: String) -> AMQPError {
        switch r.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return AMQPError(.connection, "\(what): \(statusText(r.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if r.reply.id == amqp_method_number_t(CRMQ_CHANNEL_CLOSE) {
                let m = r.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return AMQPError(.channelClosed, replyCode: Int(m.reply_code), "\(what): \(string(m.reply_text))")
            }
            if r.reply.id == amqp_method_number_t(CRMQ_CONNECTION_CLOSE) {
                let m = r.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return AMQPError(.connectionClosed, replyCode: Int(m.reply_code),
                                 "\(what): \(string(m.reply_text))")
            }
            return AMQPError(.connection, "\(what): unexpected server method \(r.reply.id)")
        default:
            return AMQPError(.connection, "\(what): missing reply")
        }
    }
}

final class GenerationCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
