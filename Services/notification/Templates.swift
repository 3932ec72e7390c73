import Foundation
import RefundModel

/// What the buyer reads, per step and locale (DOMAIN.md §6): the amount in yuan, the step, the reason of a rejection
/// and what to add, the expected time of the next step, why something is late. One function per language keeps each
/// language's sentences whole rather than glued from fragments.
enum Templates {
    struct Rendered: Equatable {
        var title: String
        var body: String
        var locale: BuyerLocale = .zh
        /// SMS: one short text with the facts that matter, under the sender's signature in the buyer's language.
        var sms: String { (locale == .en ? "[Refund] " : "【退款】") + title + " " + body }
    }

    static func render(_ e: RefundStatusEvent, locale: BuyerLocale) -> Rendered {
        var r = locale == .en ? english(e) : chinese(e)
        r.locale = locale
        return r
    }

    // MARK: - English

    /// The step's reason in `locale` (`Phrasebook`); an event from before reasons were data has only English words.
    static func reason(_ e: RefundStatusEvent, _ locale: BuyerLocale) -> String? {
        e.reason.map { Phrasebook.render($0, locale) } ?? e.explanation
    }

    private static func english(_ e: RefundStatusEvent) -> Rendered {
        let amount = e.amount.map(Phrasebook.yuan) ?? "your refund"
        let next = e.expectedNextBy.map { " Expected by \(time($0)) (China time)." } ?? ""
        let because = reason(e, .en)
        let why = because.map { " Reason: \($0)." } ?? ""
        let order = "order \(e.orderId)"
        switch e.step {
        case .submitted:
            return .init(title: "Refund application received", body: "We are checking your refund for \(order).\(next)")
        case .needsEvidence:
            let list = Phrasebook.evidenceList(e.missingEvidence ?? [], .en)
            return .init(title: "Please add evidence to your refund",
                         body: "To continue with \(order), add: \(list.isEmpty ? "the evidence listed in the app" : list).\(why)")
        case .manualReview:
            return .init(title: "Your refund is with a reviewer", body: "A reviewer is checking \(order).\(next)")
        case .rejected:
            let add = (e.missingEvidence ?? []).isEmpty ? "" : " Add: \(Phrasebook.evidenceList(e.missingEvidence ?? [], .en))."
            return .init(title: "Refund rejected",
                         body: "Your refund for \(order) was rejected.\(why) You may appeal once with new evidence.\(add)")
        case .appealed:
            return .init(title: "Appeal received", body: "A different reviewer will decide on \(order).\(next)")
        case .rejectedFinal:
            return .init(title: "Refund refused", body: "Your refund for \(order) was refused for good.\(why)")
        case .approved:
            return .init(title: "Refund approved: \(amount)", body: "\(amount) for \(order) is approved.\(next)")
        case .supplierVerification:
            let news = because.map { " " + $0.prefix(1).uppercased() + $0.dropFirst() + "." } ?? ""
            return .init(title: "Checking with the supplier", body: "Supplier check for \(order).\(news)\(next)")
        case .disputed:
            return .init(title: "Refund under arbitration",
                         body: "The supplier disputes your refund for \(order); operations will decide.\(why)\(next)")
        case .processing:
            if e.overdue == true {
                return .init(title: "Your refund is late", body: "\(amount) for \(order) has not arrived yet.\(why)\(next)")
            }
            let note = because.map { " \($0.prefix(1).uppercased() + $0.dropFirst())." } ?? ""
            return .init(title: "Refund on its way: \(amount)", body: "\(amount) for \(order) is being paid.\(note)\(next)")
        case .payoutFailed:
            return .init(title: "Refund could not be paid",
                         body: "We could not pay \(amount) for \(order) to the original account.\(why) Choose your platform balance or another account in the app.")
        case .credited:
            return .init(title: "Refund credited: \(amount)", body: "\(amount) for \(order) has arrived.\(why)")
        case .withdrawn:
            return .init(title: "Refund withdrawn", body: "Your refund for \(order) was withdrawn.")
        }
    }

    // MARK: - 中文

    private static func chinese(_ e: RefundStatusEvent) -> Rendered {
        let amount = e.amount.map(Phrasebook.yuan) ?? "退款"
        let next = e.expectedNextBy.map { "预计\(time($0))(北京时间)前完成下一步。" } ?? ""
        let because = reason(e, .zh)
        let why = because.map { "原因:\($0)。" } ?? ""
        let order = "订单\(e.orderId)"
        switch e.step {
        case .submitted:
            return .init(title: "退款申请已受理", body: "我们正在审核\(order)的退款。\(next)")
        case .needsEvidence:
            let list = Phrasebook.evidenceList(e.missingEvidence ?? [], .zh)
            return .init(title: "请补充退款材料", body: "\(order)的退款需要补充:\(list.isEmpty ? "页面所列材料" : list)。\(why)")
        case .manualReview:
            return .init(title: "退款进入人工审核", body: "审核员正在处理\(order)的退款。\(next)")
        case .rejected:
            let add = (e.missingEvidence ?? []).isEmpty ? "" : "可补充:\(Phrasebook.evidenceList(e.missingEvidence ?? [], .zh))。"
            return .init(title: "退款申请被驳回", body: "\(order)的退款被驳回。\(why)您可携新证据申诉一次。\(add)")
        case .appealed:
            return .init(title: "申诉已受理", body: "将由另一位审核员处理\(order)的申诉。\(next)")
        case .rejectedFinal:
            return .init(title: "退款最终被拒绝", body: "\(order)的退款未获通过。\(why)")
        case .approved:
            return .init(title: "退款已通过:\(amount)", body: "\(order)的退款\(amount)已通过审核。\(next)")
        case .supplierVerification:
            let news = because.map { "进展:\($0)。" } ?? ""
            return .init(title: "正在与供货商核实", body: "我们已请供货商核实\(order)。\(news)\(next)")
        case .disputed:
            return .init(title: "退款进入仲裁", body: "供货商对\(order)的退款有异议,平台运营将仲裁。\(why)\(next)")
        case .processing:
            if e.overdue == true {
                return .init(title: "退款到账延迟", body: "\(order)的退款\(amount)尚未到账。\(why)\(next)")
            }
            let note = because.map { "说明:\($0)。" } ?? ""
            return .init(title: "退款处理中:\(amount)", body: "\(order)的退款\(amount)正在退回。\(note)\(next)")
        case .payoutFailed:
            return .init(title: "退款未能到账", body: "\(order)的退款\(amount)无法退回原账户。\(why)请在应用内选择退到平台余额或其他账户。")
        case .credited:
            return .init(title: "退款已到账:\(amount)", body: "\(order)的退款\(amount)已到账。\(because.map { "说明:\($0)。" } ?? "")")
        case .withdrawn:
            return .init(title: "退款已撤回", body: "\(order)的退款申请已撤回。")
        }
    }

    // MARK: - Formatting

    /// `2026-11-25 18:00` in China time.
    static func time(_ d: Date) -> String { PlatformTime.display(d) }
}
