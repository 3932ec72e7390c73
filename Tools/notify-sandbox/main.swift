import Foundation
import Hummingbird
import NIOCore

/// Plays the outside world of notification: an HTTP SMS gateway and an SMTP server, recording what they received.
///
///   POST /v1/sms   {"requestId","phone","text"} → 200 {"code":"OK"}; deduplicated on requestId
///   GET  /sms      → {"messages": […], "duplicates", "attempts"}
///   GET  /mail     → {"messages": [{"to","subject","messageId","body"}], "rcptAttempts"}
///   SMTP on SANDBOX_SMTP_PORT (default 2525)
///
/// Faults: the first SANDBOX_SMS_FAIL_FIRST SMS requests get 503 (gateway down); SANDBOX_SMS_DELAY_SECONDS delays
/// every answer (a slow gateway); a phone ending in 0000 is refused for good (400 INVALID_NUMBER); the first
/// SANDBOX_SMTP_FAIL_FIRST recipients get 451; a recipient starting with `bounce` gets 550.
let env = ProcessInfo.processInfo.environment
let httpPort = Int(env["SANDBOX_HTTP_PORT"] ?? "") ?? 8092
let smtpPort = Int(env["SANDBOX_SMTP_PORT"] ?? "") ?? 2525
let smsFailFirst = Int(env["SANDBOX_SMS_FAIL_FIRST"] ?? "") ?? 0
let smsDelay = Double(env["SANDBOX_SMS_DELAY_SECONDS"] ?? "") ?? 0
let recorder = Recorder()
signal(SIGPIPE, SIG_IGN)
try SMTPServer(port: smtpPort, recorder: recorder, failFirst: Int(env["SANDBOX_SMTP_FAIL_FIRST"] ?? "") ?? 0).start()

func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

let router = Router()
router.post("/v1/sms") { request, _ -> Response in
    var request = request
    let body = try await request.collectBody(upTo: 65_536)
    let attempt = recorder.smsAttempt()
    if smsDelay > 0 { try await Task.sleep(for: .seconds(smsDelay)) }
    if attempt <= smsFailFirst { return json(.serviceUnavailable, ["code": "SYSTEM_BUSY"]) }
    guard let o = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
          let id = o["requestId"] as? String, let phone = o["phone"] as? String, let text = o["text"] as? String
    else { return json(.badRequest, ["code": "INVALID_PARAMETER"]) }
    if phone.hasSuffix("0000") { return json(.badRequest, ["code": "INVALID_NUMBER"]) }
    recorder.recordSMS(requestId: id, phone: phone, text: text)
    return json(.ok, ["code": "OK"])
}
router.get("/sms") { _, _ in json(.ok, recorder.smsReport()) }
router.get("/mail") { _, _ in json(.ok, recorder.mailReport()) }

let app = Application(router: router, configuration: .init(address: .hostname(env["SANDBOX_HOST"] ?? "127.0.0.1", port: httpPort),
                                                           serverName: "notify-sandbox"))
try await app.runService()
