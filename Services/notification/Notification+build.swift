import RefundModel
import StageRuntime

/// Notification. Consumes `refund.status.*` and `buyer.profile`; publishes in-app messages (`notification.in-app`,
/// kept by intake); sends SMS (HTTP gateway) and e-mail (SMTP) from one sender thread per channel; owns contacts,
/// deliveries per event and channel, and refused addresses.
enum Notification {
    static func definition(_ env: Environment) throws -> StageDefinition {
        let settings = try NotificationSettings(env)
        return StageDefinition(
            service: .notification, migrations: Schema.migrations, handler: NotificationHandler(),
            work: [
                Sender(channel: .sms, gateway: SMSGateway(url: settings.smsURL,
                                                          timeout: Double(settings.gatewayTimeoutSeconds)),
                       settings: settings),
                Sender(channel: .email, gateway: SMTPMailer(url: settings.smtpURL, from: settings.mailFrom,
                                                            timeout: settings.gatewayTimeoutSeconds),
                       settings: settings),
            ])
    }
}
