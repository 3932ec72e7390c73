import RefundModel
import StageRuntime

/// Notification. Consumes `refund.status.*` and `buyer.profile`; publishes in-app messages (`notification.in-app`,
/// kept by intake); sends SMS (HTTP gateway) and e-mail (SMTP) from one sender thread per medium; owns contacts,
/// deliveries per event and medium, and refused addresses.
enum NotificationStage {
    static func definition(_ env: SettingsSource) throws -> StageDefinition {
        let settings = try NotificationSettings(env)
        let sms = SMSGateway(url: settings.smsURL, timeout: Double(settings.gatewayTimeoutSeconds))
        let mail = SMTPMailer(url: settings.smtpURL, from: settings.mailFrom, messageIdDomain: settings.messageIdDomain,
                              timeout: settings.gatewayTimeoutSeconds,
                              caFile: settings.smtpCAFile, requireStartTLS: settings.smtpStartTLS)
        // Several senders per medium: one slow answer holds up only its own message (claims skip locked rows).
        let senders = (0..<settings.sendersPerMedium).flatMap { n in
            [Sender(medium: .sms, gateway: sms, settings: settings, index: n),
             Sender(medium: .email, gateway: mail, settings: settings, index: n)]
        }
        let retention = try RetentionSweep.settings(env)
        // The address a message went to is kept while it may be retried, then for the retention period (complaints).
        let erase = RetentionSweep.Rule(what: "delivery addresses", olderThanSeconds: retention.personalDataSeconds, sql: """
            UPDATE deliveries SET address = NULL WHERE (event_id, medium) IN (
                SELECT event_id, medium FROM deliveries WHERE address IS NOT NULL AND state <> 'pending'
                AND created_at < now() - make_interval(secs => $1::double precision) LIMIT 500)
            """)
        return StageDefinition(service: .notification, migrations: Schema.migrations, handler: NotificationHandler(),
                               work: senders + [RetentionSweep(rules: [erase], everySeconds: retention.everySeconds)])
    }
}
