import ChannelSigning
import Foundation
import RefundModel
import Testing

@Suite("Channel callback signatures and daily batch windows (DOMAIN.md §5)")
struct PayoutSchedulingTests {
    let secret = "sandbox-secret-0123456789"
    let body = Array(#"{"a":1}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_700_000_100)

    @Test("HMAC-SHA256 over timestamp, nonce and body matches an independent implementation (Python's hmac)")
    func signature() {
        #expect(CallbackSignature.sign(secret: secret, timestamp: 1_700_000_000, nonce: "abc", body: body)
            == "1ae50b781904e2d44e330dbef85474adbeb963d1539aeff6e6cbf547efee78f0")
    }

    @Test("a callback is valid only with the right secret, body, and a fresh timestamp")
    func verification() {
        let sig = CallbackSignature.sign(secret: secret, timestamp: 1_700_000_000, nonce: "abc", body: body)
        func check(_ secret: String, _ ts: String?, _ nonce: String?, _ sig: String?, _ body: [UInt8])
            -> CallbackSignature.Verdict {
            CallbackSignature.verify(secret: secret, timestamp: ts, nonce: nonce, signature: sig, body: body, now: now)
        }
        #expect(check(secret, "1700000000", "abc", sig, body) == .valid)
        #expect(check(secret, "1700000000", "abc", sig.uppercased(), body) == .valid)
        #expect(check("another-secret-0123456", "1700000000", "abc", sig, body) == .badSignature)
        #expect(check(secret, "1700000000", "abc", sig, Array(#"{"a":2}"#.utf8)) == .badSignature)
        #expect(check(secret, "1700000000", "abd", sig, body) == .badSignature)
        #expect(check(secret, "1699999000", "abc", sig, body) == .stale)
        #expect(check(secret, nil, "abc", sig, body) == .malformed)
        #expect(check(secret, "1700000000", "", sig, body) == .malformed)
        #expect(check(secret, "1700000000", "abc", "00", body) == .malformed)
    }

    @Test("a batched channel is sent at its next window (platform time); others at once; bad settings refused")
    func batches() throws {
        let windows = try #require(BatchWindows(setting: "bank_card=17:00, credit_card=09:30"))
        // 2026-11-23 08:00 UTC = 16:00 in UTC+8 → today's 17:00 = 09:00 UTC.
        let morning = Date(timeIntervalSince1970: 1_795_420_800)
        #expect(windows.sendTime(channel: .bankCard, now: morning) == morning.addingTimeInterval(3_600))
        // 16:00 local is after 09:30: tomorrow's 09:30 local = 17.5 h later.
        #expect(windows.sendTime(channel: .creditCard, now: morning) == morning.addingTimeInterval(17.5 * 3_600))
        #expect(windows.sendTime(channel: .alipay, now: morning) == morning)
        #expect(BatchWindows(setting: "")?.minuteOfDay.isEmpty == true)
        #expect(BatchWindows(setting: "bank_card=25:00") == nil)
        #expect(BatchWindows(setting: "balance=17:00") == nil)
        #expect(BatchWindows(setting: "paypal=17:00") == nil)
        #expect(BatchWindows(setting: "bank_card") == nil)
    }
}

@Suite("Channel arrival times as a platform setting")
struct ArrivalTimesSettingTests {
    @Test("ARRIVAL_TIMES overrides named channels only; malformed entries are refused")
    func parse() throws {
        let p = try #require(ArrivalCalendar.promises(setting: "bank_card=7d, alipay=1h"))
        let c = ArrivalCalendar(promises: p)
        #expect(c.promise(for: .bankCard) == .workingDays(7))
        #expect(c.promise(for: .alipay) == .hours(1))
        #expect(c.promise(for: .wechat) == .hours(4))
        #expect(ArrivalCalendar.promises(setting: "bank_card=3x") == nil)
        #expect(ArrivalCalendar.promises(setting: "balance=1h") == nil)
        #expect(ArrivalCalendar.promises(setting: "alipay") == nil)
    }
}
