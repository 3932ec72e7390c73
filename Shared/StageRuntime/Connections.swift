import AMQP
import Logging
import Postgres
import RefundModel

/// Opens connections with jittered backoff until they succeed or the stage is stopping (nil then). A permanent
/// error (bad credentials, access refused) is still retried but logged as an error, since an operator must act.
enum Connections {
    static func postgres(_ url: String, schema: String, name: String, stop: StopSignal, logger: Logger)
        -> PostgresConnection? {
        var backoff = Backoff()
        while !stop.isStopped {
            do {
                let db = try PostgresConnection(url: url, applicationName: name)
                try db.simple("SET search_path TO \(schema)")
                return db
            } catch {
                let wait = backoff.nextDelayMillis()
                logger.warning("postgres connect failed, retrying",
                               metadata: ["error": "\(error)", "retry.ms": "\(wait)", "setting": "DATABASE_URL"])
                stop.sleep(millis: wait)
            }
        }
        return nil
    }

    static func amqp(_ url: AMQPURL, heartbeat: Int, stop: StopSignal, logger: Logger,
                     setup: (AMQPConnection) throws -> Void) -> AMQPConnection? {
        var backoff = Backoff()
        while !stop.isStopped {
            do {
                let c = try AMQPConnection(url: url, heartbeatSeconds: Int32(heartbeat))
                try setup(c)
                return c
            } catch {
                let wait = backoff.nextDelayMillis()
                let e = error as? AMQPError
                let needsOperator = !(e?.isTransient ?? true) || e?.code == .tls
                logger.log(level: needsOperator ? .error : .warning, "amqp connect failed, retrying",
                           metadata: ["error": "\(error)", "retry.ms": "\(wait)", "amqp.url": "\(url)",
                                      "setting": "AMQP_URL"])
                stop.sleep(millis: wait)
            }
        }
        return nil
    }
}
