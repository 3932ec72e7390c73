import Foundation
@testable import Notification
import RefundModel
import Testing

/// What the buyer reads (DOMAIN.md §6), each sentence written out by hand.
@Suite("Notification wording (Templates)")
struct TemplatesTests {
    static let id = RefundID(UUID(uuidString: "8e0c2a8e-1111-4a5b-9c3d-000000000001")!)
    /// 2026-11-23 10:30 UTC = 18:30 in China.
    static let at = Date(timeIntervalSince1970: 1_795_429_800)

    func event(_ step: RefundState, amount: Int64? = 3_000, because: Explanation? = nil, missing: [String]? = nil,
               next: Date? = nil, overdue: Bool? = nil) -> RefundStatusEvent {
        RefundStatusEvent(refundId: Self.id, orderId: "o-77", buyerId: "b-1", step: step, at: Self.at, actor: "system",
                          because: because, amount: amount.map { try! Money(minorUnits: $0) }, missingEvidence: missing,
                          expectedNextBy: next, overdue: overdue)
    }

    @Test("credited, in both languages, the amount from fen")
    func credited() {
        let en = Templates.render(event(.credited, amount: 12_345), locale: .en)
        #expect(en.title == "Refund credited: ¥123.45")
        #expect(en.body == "¥123.45 for order o-77 has arrived.")
        #expect(en.sms == "[Refund] Refund credited: ¥123.45 ¥123.45 for order o-77 has arrived.")
        let zh = Templates.render(event(.credited, amount: 12_345), locale: .zh)
        #expect(zh.title == "退款已到账:¥123.45")
        #expect(zh.body == "订单o-77的退款¥123.45已到账。")
        #expect(zh.sms.hasPrefix("【退款】退款已到账:¥123.45"))
    }

    @Test("a rejection says why and what to add")
    func rejected() {
        let e = event(.rejected, because: Explanation(.consumedByBuyer),
                      missing: ["activation_failure_log|unused_proof", "order_number"])
        let en = Templates.render(e, locale: .en)
        #expect(en.title == "Refund rejected")
        #expect(en.body == "Your refund for order o-77 was rejected. Reason: the item was activated or consumed by the "
            + "buyer. You may appeal once with new evidence. Add: the activation-failure log or proof the item is "
            + "unused, the order number.")
        let zh = Templates.render(e, locale: .zh)
        #expect(zh.body.hasPrefix("订单o-77的退款被驳回。原因:该商品已被买家激活或使用。您可携新证据申诉一次。可补充:激活失败记录或未使用证明、"))
    }

    @Test("the next step's time in China time; a late payout says it is late")
    func times() {
        let next = Date(timeIntervalSince1970: 1_795_437_000)  // 12:30 UTC = 20:30 in China
        let en = Templates.render(event(.approved, next: next), locale: .en)
        #expect(en.body == "¥30.00 for order o-77 is approved. Expected by 2026-11-23 20:30 (China time).")
        let late = Templates.render(event(.processing, overdue: true), locale: .en)
        #expect(late.title == "Your refund is late")
        #expect(Templates.render(event(.processing, overdue: true), locale: .zh).title == "退款到账延迟")
    }

    @Test("every step has a title and a body in both languages")
    func everyStep() {
        for step in RefundState.allCases {
            for locale in [BuyerLocale.en, .zh] {
                let r = Templates.render(event(step), locale: locale)
                #expect(!r.title.isEmpty && !r.body.isEmpty, "\(step) \(locale)")
                #expect(r.locale == locale)
            }
        }
    }
}
