import AMQP
import Foundation
import StageRuntime
import Testing

@Suite("Settings every stage reads: defaults, ranges, and errors that name the setting")
struct SettingsTests {
    static let required = ["AMQP_URL": "amqp://intake:pw@127.0.0.1:5672/refunds",
                           "DATABASE_URL": "postgres://intake:pw@127.0.0.1:5432/refunds"]

    func settings(_ extra: [String: String] = [:]) throws -> StageSettings {
        try StageSettings(SettingsSource(Self.required.merging(extra) { $1 }))
    }

    @Test("the defaults")
    func defaults() throws {
        let s = try settings()
        #expect(s.prefetch == 200 && s.batchSize == 100 && s.deliveryLimit == 5 && s.windowLingerMillis == 5)
        #expect(s.maxMessageBytes == 262_144 && s.timerMaxAttempts == 10 && s.inboxRetentionSeconds == 1_209_600)
        #expect(s.healthPort == nil, "no health listener unless HEALTH_PORT is set")
        #expect(try settings(["HEALTH_PORT": ""]).healthPort == nil)
        #expect(try settings(["HEALTH_PORT": "9101", "TIMER_LEASE_SECONDS": "0.5"]).healthPort == 9101)
        #expect(try settings(["TIMER_LEASE_SECONDS": "0.5"]).timerLeaseSeconds == 0.5)
    }

    @Test("a wrong value is refused with the setting's name", arguments: [
        ("PREFETCH", "0"), ("PREFETCH", "5001"), ("BATCH_SIZE", "ten"), ("DELIVERY_LIMIT", "-1"),
        ("HEALTH_PORT", "70000"), ("TIMER_LEASE_SECONDS", "-3"), ("INBOX_RETENTION_SECONDS", "inf"),
        ("AMQP_URL", "http://x"), ("DATABASE_URL", "mysql://a@b/c"), ("MAX_MESSAGE_BYTES", "10"),
    ])
    func refused(setting: String, value: String) {
        do {
            _ = try settings([setting: value])
            Issue.record("\(setting)=\(value) was accepted")
        } catch let e as ConfigurationError {
            #expect(e.setting == setting, "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a missing required setting is named")
    func missing() {
        #expect(throws: ConfigurationError.self) { try StageSettings(SettingsSource(["AMQP_URL": Self.required["AMQP_URL"]!])) }
        do { _ = try StageSettings(SettingsSource([:])) } catch let e as ConfigurationError {
            #expect(e.setting == "AMQP_URL" && e.problem == "is required and not set")
        } catch { Issue.record("\(error)") }
    }
}

@Suite("AMQP URLs")
struct AMQPURLTests {
    @Test("user, password, hosts, ports and vhost, percent-decoded")
    func parse() throws {
        let u = try AMQPURL(parsing: "amqp://pay%40out:p%2Fw@rabbit-1:5673,rabbit-2/refunds%2Fprod")
        #expect(u.user == "pay@out" && u.password == "p/w" && u.vhost == "refunds/prod")
        #expect(u.endpoints == [.init(host: "rabbit-1", port: 5673), .init(host: "rabbit-2", port: 5672)])
        #expect(u.tls == nil)
        #expect(try AMQPURL(parsing: "amqp://a:b@h").vhost == "/")
    }

    @Test("amqps: port 5671, the system's CAs unless named, verification on unless turned off")
    func tls() throws {
        let u = try AMQPURL(parsing: "amqps://a:b@h")
        #expect(u.port == 5671 && u.tls?.caCertFile == "/etc/ssl/certs/ca-certificates.crt" && u.tls?.verifyPeer == true)
        let v = try AMQPURL(parsing: "amqps://a:b@h:5700/v?cacertfile=/ca.pem&certfile=/c.pem&keyfile=/k.pem&verify=verify_none")
        #expect(v.port == 5700 && v.vhost == "v")
        #expect(v.tls?.caCertFile == "/ca.pem" && v.tls?.certFile == "/c.pem" && v.tls?.keyFile == "/k.pem")
        #expect(v.tls?.verifyPeer == false)
    }

    @Test("malformed URLs are refused", arguments: [
        "http://a:b@h", "amqp://h", "amqp://a@h", "amqp://:b@h", "amqp://a:b@h:0", "amqp://a:b@h:99999",
        "amqp://a:b@", "amqp://a:b@h?cacertfile=/x", "amqps://a:b@h?certfile=/c", "amqps://a:b@h?verify=maybe",
        "amqps://a:b@h?colour=red", "amqp://a:b%zz@h",
    ])
    func refused(url: String) {
        #expect(throws: AMQPError.self) { try AMQPURL(parsing: url) }
    }
}
