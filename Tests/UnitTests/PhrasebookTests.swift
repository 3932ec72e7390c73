import Foundation
import RefundModel
import Testing

/// Issue 17 §3: every reason a stage gives, in both languages, with its parameters in place.
@Suite("Phrasebook: reasons, channels, steps and evidence in Chinese and English")
struct PhrasebookTests {
    static func hasChinese(_ s: String) -> Bool { s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }

    /// Parameters every code may use, so each sentence is rendered whole.
    static let params = ["channel": "alipay", "at": "2026-12-06T02:00:00.000Z", "missing": "order_number,unused_proof",
                         "max": "3", "rule": "R-ELIG-INVALID-CODE", "percent": "40", "amount": "6000",
                         "currency": "CNY", "account": "6222****1234", "line": "2", "orderCurrency": "USD",
                         "scope": "order", "already": "100", "more": "200", "paid": "250", "state": "processing",
                         "kind": "approve", "text": "买家的话 the buyer's words"]

    @Test("every code has a Chinese sentence with Chinese in it and an English one without", arguments: Explanation.Code.allCases)
    func everyCode(_ code: Explanation.Code) {
        let e = Explanation(code, Self.params)
        let zh = Phrasebook.render(e, .zh), en = Phrasebook.render(e, .en)
        #expect(!zh.isEmpty && !en.isEmpty)
        #expect(Self.hasChinese(zh), "\(code): \(zh)")
        if code != .personText && code != .ticketOpened {
            #expect(!Self.hasChinese(en), "\(code): \(en)")
        }
        #expect(e.english == en)
    }

    @Test("parameters are worded for the reader: channels, times in China time, evidence, amounts in yuan")
    func parameters() {
        #expect(Phrasebook.render(.init(.sentBack, ["channel": "alipay"]), .zh) == "退款已通过支付宝原路退回")
        #expect(Phrasebook.render(.init(.sentBack, ["channel": "alipay"]), .en) == "refund sent back by alipay")
        // 02:00 UTC is 10:00 in China.
        #expect(Phrasebook.render(.init(.sentBack, ["channel": "bank_card", "at": "2026-12-06T02:00:00Z"]), .zh)
            .contains("银行卡每日批量处理时(2026-12-06 10:00)"))
        #expect(Phrasebook.render(.init(.evidenceMissing, ["missing": "order_number,activation_failure_log|unused_proof"]), .zh)
            == "缺少订单号、激活失败记录或未使用证明")
        #expect(Phrasebook.render(.init(.supplierPartial, ["percent": "40", "amount": "6000", "currency": "CNY"]), .en)
            == "the supplier reports 40% used: the refund is ¥60.00")
        #expect(Phrasebook.render(.text("请尽快处理"), .en) == "请尽快处理", "a person's words as written")
    }

    @Test("a code newer than this build shows the words that came with it")
    func unknownCode() throws {
        let e = try JSONDecoder().decode(Explanation.self, from: Data(#"{"code":"from_the_future","params":{"text":"later"}}"#.utf8))
        #expect(e.known == nil)
        #expect(Phrasebook.render(e, .zh) == "later")
    }

    @Test("every channel, step and evidence kind has a Chinese name")
    func names() {
        for c in PaymentChannel.allCases { #expect(Self.hasChinese(Phrasebook.channelName(c.rawValue, .zh)), "\(c)") }
        for s in RefundState.allCases { #expect(Self.hasChinese(Phrasebook.stepName(s.rawValue, .zh)), "\(s)") }
        for k in EvidenceKind.allCases { #expect(Self.hasChinese(Phrasebook.evidenceName(k.rawValue, .zh)), "\(k)") }
    }
}
