import Foundation
import RefundModel
import Testing

@Suite("Arrival time by channel, in working days (DOMAIN.md §5)")
struct ArrivalCalendarTests {
    /// A time given in China (UTC+8).
    func cst(_ s: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: s + "+08:00")!
    }

    @Test("balance instant, Alipay 2 h, WeChat 4 h")
    func fixedDelays() {
        let c = ArrivalCalendar()
        let t = cst("2026-11-20T10:00:00")
        #expect(c.expectedArrival(channel: .balance, paidOutAt: t) == t)
        #expect(c.expectedArrival(channel: .alipay, paidOutAt: t) == cst("2026-11-20T12:00:00"))
        #expect(c.expectedArrival(channel: .wechat, paidOutAt: t) == cst("2026-11-20T14:00:00"))
    }

    @Test("bank card: 3 working days, skipping the weekend")
    func weekend() {
        // Friday 20 Nov 2026 → Mon 23, Tue 24, Wed 25 → by the end of Wednesday.
        let c = ArrivalCalendar()
        #expect(c.expectedArrival(channel: .bankCard, paidOutAt: cst("2026-11-20T16:30:00")) == cst("2026-11-26T00:00:00"))
        // Credit card, 5 working days from the same Friday: Mon-Fri of the next week.
        #expect(c.expectedArrival(channel: .creditCard, paidOutAt: cst("2026-11-20T16:30:00"))
            == cst("2026-11-28T00:00:00"))
    }

    @Test("a holiday from the calendar setting is skipped too")
    func holiday() {
        let c = ArrivalCalendar(holidayList: "2026-11-24, 2026-11-25")!
        // Fri 20 → Mon 23, (Tue 24, Wed 25 holidays), Thu 26, Fri 27 → end of Friday.
        #expect(c.expectedArrival(channel: .bankCard, paidOutAt: cst("2026-11-20T09:00:00")) == cst("2026-11-28T00:00:00"))
        #expect(!c.isWorkingDay(cst("2026-11-24T12:00:00")))
        #expect(!c.isWorkingDay(cst("2026-11-22T12:00:00")))
        #expect(c.isWorkingDay(cst("2026-11-23T00:30:00")), "00:30 in China is still Sunday in UTC")
        #expect(ArrivalCalendar(holidayList: "2026-13") == nil)
    }
}
