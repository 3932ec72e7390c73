import Foundation
import RefundModel
import Testing

extension Component.NotificationTests {
    /// A sentence a Chinese reader cannot read: letters and no Chinese character (order ids and amounts are inside
    /// Chinese sentences; a lone "¥12.00" has no letters).
    static func untranslated(_ text: String) -> [String] {
        text.split(whereSeparator: { "。!?;:\n".contains($0) }).map(String.init).filter { sentence in
            let hasCJK = sentence.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
            return !hasCJK && sentence.contains(/[A-Za-z]{3,}/)
        }
    }

    /// Issue 17 §3: every status step, with its reason as data, reaches a Chinese and an English buyer by in-app
    /// message, SMS and e-mail in their own language; every e-mail parses with Python's `email` (default policy)
    /// with zero defects.
    @Test("every step in zh and en, in-app, SMS and e-mail: no untranslated sentence; each e-mail parses with zero defects")
    func everyStepTranslated() throws {
        let s = try Stack()
        defer { s.stop() }
        try Self.profile("b-1", phone: "13812340001", email: "wording.en@example.com", locale: .en)
        try Self.profile("b-2", phone: "13812340002", email: "wording.zh@example.com", locale: .zh)
        Thread.sleep(forTimeInterval: 0.5)
        let next = Date().addingTimeInterval(86_400)
        // One refund per step (each is news), with a reason of the kind that step carries.
        let reasons: [RefundState: Explanation] = [
            .submitted: .init(.applicationReceived),
            .needsEvidence: .init(.evidenceMissing, ["missing": "order_number,activation_failure_log|unused_proof"]),
            .manualReview: .init(.riskFrequency, ["max": "3"]),
            .rejected: .init(.consumedByBuyer),
            .appealed: .init(.appealedToAnotherReviewer),
            .rejectedFinal: .init(.supplierUsedLog, ["at": PlatformTime.iso(Date())]),
            .approved: .init(.fastRefund),
            .supplierVerification: .init(.supplierPartial, ["percent": "40", "amount": "6000", "currency": "CNY"]),
            .disputed: .init(.supplierUsedDisputed),
            .processing: .init(.sentBack, ["channel": "alipay", "at": PlatformTime.iso(next)]),
            .payoutFailed: .init(.channelRefused, ["channel": "bank_card"]),
            .credited: .init(.channelSucceeded, ["channel": "wechat"]),
            .withdrawn: .init(.withdrawnByBuyer),
        ]
        var refunds: [(RefundID, BuyerLocale)] = []
        for (buyer, locale) in [("b-1", BuyerLocale.en), ("b-2", .zh)] {
            var events: [RefundStatusEvent] = []
            for step in RefundState.allCases {
                let id = RefundID()
                refunds.append((id, locale))
                events.append(try Self.event(id, buyer: buyer, step, amount: 6_000, because: reasons[step],
                                             missing: step == .needsEvidence || step == .rejected
                                                 ? ["order_number", "activation_failure_log|unused_proof"] : nil,
                                             next: next))
            }
            // And a late payout: the same step, new news, with why.
            let late = RefundID()
            refunds.append((late, locale))
            events.append(try Self.event(late, buyer: buyer, .processing, amount: 6_000,
                                         because: .init(.lateChannelUnconfirmed, ["channel": "alipay"]), next: next,
                                         overdue: true))
            try Self.status(events)
        }
        #expect(RefundState.allCases.allSatisfy { reasons[$0] != nil }, "a step without a sample reason")
        let expected = refunds.count
        #expect(TestStack.eventually(30) {
            let sms = (try? refunds.map { try s.sms(refund: $0.0).count }.reduce(0, +)) ?? 0
            let mail = (try? refunds.map { try s.mail(refund: $0.0).count }.reduce(0, +)) ?? 0
            return sms == expected && mail == expected
        }, "every step by SMS and e-mail")

        var raws: [String] = []
        for (id, locale) in refunds {
            let token = locale == .zh ? Component.IntakeAPITests.b2 : Component.IntakeAPITests.b1
            let inbox = try s.inbox(token, refund: id)
            #expect(inbox.count == 1, "\(id) \(locale)")
            let sms = try s.sms(refund: id).compactMap { $0["text"] as? String }
            let mail = try s.mail(refund: id)
            raws += mail.compactMap { $0["raw"] as? String }
            var texts: [String] = sms
            for m in inbox { texts += [m["title"] as? String ?? "", m["body"] as? String ?? ""] }
            for m in mail { texts += [m["subject"] as? String ?? "", m["body"] as? String ?? ""] }
            if locale == .zh {
                for text in texts {
                    #expect(Self.untranslated(text).isEmpty, "untranslated in a Chinese message: \(text)")
                }
            } else {
                // English readers get English: no Chinese outside the sender's signature.
                #expect(texts.allSatisfy { !$0.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } },
                        "\(texts)")
            }
        }
        #expect(raws.count == expected)
        let parsed = try TestStack.run("/bin/sh", ["-c", "printf '%s' \"$0\" | /usr/bin/python3 \"$1\"",
                                                   String(decoding: try JSONSerialization.data(withJSONObject: raws), as: UTF8.self),
                                                   TestStack.repoRoot.appendingPathComponent("Tests/notification/mime_check.py").path])
        #expect(parsed.status == 0, "\(parsed.output)")
        let results = (try? JSONSerialization.jsonObject(with: Data(parsed.output.utf8))) as? [[String: Any]] ?? []
        #expect(results.count == expected, "\(parsed.output.prefix(500))")
        for r in results {
            #expect((r["defects"] as? [String])?.isEmpty == true, "MIME defects: \(r)")
            #expect(r["contentType"] as? String == "text/plain")
            #expect((r["text"] as? String)?.isEmpty == false)
        }
        // The Chinese subjects survive RFC 2047 as a real parser reads them.
        #expect(results.contains { ($0["subject"] as? String)?.hasPrefix("退款") == true })
    }
}
