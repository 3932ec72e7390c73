import Foundation

/// Every reason, channel, step and evidence kind in the buyer's words, Chinese and English (issue 17 §3). One home:
/// the notification templates, the buyer's API and the English `explanation` text all render from here, and each
/// switch is exhaustive, so a new code does not compile until both languages have it.
public enum Phrasebook {
    public static func render(_ e: Explanation, _ locale: BuyerLocale) -> String {
        guard let code = e.known else {
            // A code newer than this build: the text that came with it, or the code itself.
            return e.params["text"] ?? e.code
        }
        let p = { (name: String) in e.params[name] ?? "" }
        let channel = { channelName(p("channel"), locale) }
        let when = e.params["at"].flatMap(PlatformTime.parse).map { PlatformTime.display($0) }
        return locale == .en ? english(code, p, channel(), when, e) : chinese(code, p, channel(), when, e)
    }

    private static func english(_ code: Explanation.Code, _ p: (String) -> String, _ channel: String, _ when: String?,
                                _ e: Explanation) -> String {
        switch code {
        case .personText: return p("text")
        case .customMade: return "custom-made goods are not refundable"
        case .physicalOpened: return "physical goods are refundable only unopened"
        case .buyerMistake: return "the buyer's own mistake or conduct is not refundable"
        case .consumedByBuyer: return "the item was activated or consumed by the buyer"
        case .proRataTopUpOnly: return "pro-rata refunds are for top-up balances"
        case .completionServicesOnly: return "completion-based refunds are for services"
        case .notDeliveredWindowPassed:
            return "a not-delivered claim must come within the window after the promised delivery; you may appeal"
        case .defectWindowPassed: return "a defect must be reported within the window after delivery; you may appeal"
        case .noReasonNotOffered: return "this product has no no-reason refunds"
        case .noReasonUnusedOnly: return "no-reason refunds are for unused items"
        case .coolingOffPassed: return "the cooling-off window has passed"
        case .noUsageRecords: return "no usage records for this balance"
        case .nothingLeft: return "nothing is left to refund on this order"
        case .evidenceMissing: return "missing: " + evidenceList(p("missing"), .en)
        case .riskFrequency: return "more than \(p("max")) applications in the risk window: enhanced review"
        case .riskHighAmount: return "high amount: manual review with the longer SLA"
        case .platformFault: return "platform fault: the platform pays now"
        case .deliveryDisputed: return "records show a delivery the buyer disputes"
        case .abnormalHistory: return "abnormal refund history"
        case .fastRefund: return "fast refund: undelivered, good standing, small amount"
        case .notDeliveredFull: return "not delivered: full refund"
        case .notAsDescribed: return "the difference from the description needs a reviewer"
        case .eligibleByRule: return "eligible by rule \(p("rule"))"
        case .reviewSLABreached:
            return "not decided within the review SLA: the platform pays now and recovers from the supplier"
        case .withdrawnByBuyer: return "withdrawn by the buyer"
        case .evidenceSupplemented: return "evidence supplemented"
        case .appealedToAnotherReviewer: return "appealed: a different reviewer decides"
        case .approvedByReviewer: return "approved by a reviewer"
        case .appealApproved: return "appeal approved by a second reviewer"
        case .rejectedByReviewer: return "rejected by a reviewer"
        case .reviewerAsksEvidence: return "the reviewer asks for more evidence"
        case .reviewerDecided:
            return ["approve": "approve", "reject": "reject", "ask_evidence": "ask for evidence"][p("kind")] ?? p("kind")
        case .askingSupplier: return "asking the supplier to confirm the item is unused"
        case .supplierSilent: return "the supplier did not answer by the deadline: decided in your favour"
        case .supplierConfirmed: return "the supplier confirmed the item unused"
        case .supplierNoRecord: return "the supplier has no record of delivering this order"
        case .supplierPartial: return "the supplier reports \(p("percent"))% used: the refund is \(amount(e))"
        case .supplierUsedDisputed:
            return "the supplier says the item was used; your evidence says otherwise: operations will arbitrate "
                + "(3-5 working days)"
        case .supplierUsedLog: return "the supplier's log shows the item was used" + (when.map { " at \($0)" } ?? "")
        case .arbitrationForBuyer: return "arbitration decided in your favour"
        case .arbitrationFoundUsed: return "arbitration found the item was used"
        case .sentBack:
            return "refund sent back by \(channel)" + (when.map { " in the channel's daily batch at \($0)" } ?? "")
        case .toBalance: return "refund to your platform balance (instant)"
        case .creditedToBalance: return "credited to your platform balance"
        case .channelSucceeded: return "the \(channel) refund succeeded"
        case .channelConfirmedLate: return "the \(channel) channel confirmed the refund after all"
        case .accountCannotReceive:
            return "the account cannot receive it (closed card or frozen account): choose your platform balance "
                + "(instant) or another account"
        case .channelRefused:
            return "the \(channel) channel refused the refund: choose your platform balance (instant) or another account"
        case .lateBankClearing:
            return "late: bank clearing is taking longer than the usual working days; we are following it up with the "
                + "channel"
        case .lateChannelUnconfirmed:
            return "late: \(channel) has not confirmed the refund yet; we are following it up with the channel"
        case .choseBalance: return "you chose your platform balance"
        case .choseAccount:
            return "you chose your \(channel) account \(p("account"))"
                + (when.map { " in the channel's daily batch at \($0)" } ?? "")
        case .fallbackToBalance: return "to your platform balance"
        case .fallbackToAccount: return "to your \(channel) account \(p("account"))"
        case .otherBuyersOrder: return "refused by payout: the order belongs to another buyer"
        case .noSuchLine: return "refused by payout: the order has no line \(p("line"))"
        case .currencyMismatch:
            return "refused by payout: the refund is in \(p("currency")), the order was paid in \(p("orderCurrency"))"
        case .overRefund:
            return "refused by payout: over-refund refused: \(p("already")) fen already refunded on this "
                + "\(p("scope") == "order" ? "order" : "line"), \(p("more")) more would exceed the \(p("paid")) paid"
        case .applicationReceived: return "application received"
        case .stuckAlerted:
            return "no progress in \(p("state")) since \(when ?? p("at")): operations were alerted"
        case .ticketOpened: return "follow-up ticket opened: \(p("text"))"
        }
    }

    private static func chinese(_ code: Explanation.Code, _ p: (String) -> String, _ channel: String, _ when: String?,
                                _ e: Explanation) -> String {
        switch code {
        case .personText: return p("text")
        case .customMade: return "定制商品不支持退款"
        case .physicalOpened: return "实物商品仅在未拆封时可以退款"
        case .buyerMistake: return "因买家自身失误或行为造成的问题不支持退款"
        case .consumedByBuyer: return "该商品已被买家激活或使用"
        case .proRataTopUpOnly: return "按比例退款仅适用于充值余额"
        case .completionServicesOnly: return "按完成度退款仅适用于服务类商品"
        case .notDeliveredWindowPassed: return "未到货申请须在承诺交付时间后的规定期限内提出;您可以申诉"
        case .defectWindowPassed: return "商品问题须在交付后的规定期限内反馈;您可以申诉"
        case .noReasonNotOffered: return "该商品不支持无理由退款"
        case .noReasonUnusedOnly: return "无理由退款仅适用于未使用的商品"
        case .coolingOffPassed: return "无理由退款期限已过"
        case .noUsageRecords: return "该余额没有使用记录"
        case .nothingLeft: return "该订单已没有可退的金额"
        case .evidenceMissing: return "缺少" + evidenceList(p("missing"), .zh)
        case .riskFrequency: return "短期内的退款申请超过\(p("max"))次,转入加强审核"
        case .riskHighAmount: return "金额较高,转入人工审核(审核时限较长)"
        case .platformFault: return "平台原因,由平台先行赔付"
        case .deliveryDisputed: return "平台记录显示已交付,与您的说法不一致,需人工核实"
        case .abnormalHistory: return "退款记录异常,需人工审核"
        case .fastRefund: return "极速退款:未交付、信用良好、金额较小"
        case .notDeliveredFull: return "商品未交付,全额退款"
        case .notAsDescribed: return "商品与描述不符的情况需由审核员判断"
        case .eligibleByRule: return "符合退款规则\(p("rule"))"
        case .reviewSLABreached: return "审核未在时限内完成,由平台先行赔付,再向供货商追偿"
        case .withdrawnByBuyer: return "买家已撤回申请"
        case .evidenceSupplemented: return "已补充材料"
        case .appealedToAnotherReviewer: return "已申诉,由另一位审核员处理"
        case .approvedByReviewer: return "审核员已同意退款"
        case .appealApproved: return "第二位审核员已同意您的申诉"
        case .rejectedByReviewer: return "审核员已驳回"
        case .reviewerAsksEvidence: return "审核员请您补充材料"
        case .reviewerDecided:
            return ["approve": "同意退款", "reject": "驳回", "ask_evidence": "要求补充材料"][p("kind")] ?? "审核员已处理"
        case .askingSupplier: return "正在请供货商确认商品未被使用"
        case .supplierSilent: return "供货商未在期限内答复,按有利于您的方式处理"
        case .supplierConfirmed: return "供货商已确认商品未被使用"
        case .supplierNoRecord: return "供货商没有该订单的交付记录"
        case .supplierPartial: return "供货商反馈已使用\(p("percent"))%,退款金额为\(amount(e))"
        case .supplierUsedDisputed: return "供货商称商品已被使用,但您的证据显示并非如此,平台运营将进行仲裁(3-5个工作日)"
        case .supplierUsedLog: return "供货商的记录显示商品已被使用" + (when.map { "(使用时间\($0))" } ?? "")
        case .arbitrationForBuyer: return "仲裁结果支持您的退款"
        case .arbitrationFoundUsed: return "仲裁认定商品已被使用"
        case .sentBack:
            return when.map { "退款将在\(channel)每日批量处理时(\($0))原路退回" } ?? "退款已通过\(channel)原路退回"
        case .toBalance: return "退款至平台余额(即时到账)"
        case .creditedToBalance: return "已退至您的平台余额"
        case .channelSucceeded: return "\(channel)退款成功"
        case .channelConfirmedLate: return "\(channel)最终确认了这笔退款"
        case .accountCannotReceive: return "原账户无法收款(银行卡已注销或账户被冻结),请选择退到平台余额(即时到账)或其他账户"
        case .channelRefused: return "\(channel)拒绝了这笔退款,请选择退到平台余额(即时到账)或其他账户"
        case .lateBankClearing: return "银行清算时间超过通常的工作日,我们正在与渠道跟进"
        case .lateChannelUnconfirmed: return "\(channel)尚未确认这笔退款,我们正在与渠道跟进"
        case .choseBalance: return "您选择了退到平台余额"
        case .choseAccount:
            return "您选择了退到\(channel)账户\(p("account"))" + (when.map { ",将在每日批量处理时(\($0))退回" } ?? "")
        case .fallbackToBalance: return "退到平台余额"
        case .fallbackToAccount: return "退到\(channel)账户\(p("account"))"
        case .otherBuyersOrder: return "付款环节拒绝:该订单属于其他买家"
        case .noSuchLine: return "付款环节拒绝:订单中没有商品行\(p("line"))"
        case .currencyMismatch: return "付款环节拒绝:退款币种\(p("currency"))与订单支付币种\(p("orderCurrency"))不一致"
        case .overRefund:
            return "付款环节拒绝:该\(p("scope") == "order" ? "订单" : "商品行")已退\(p("already"))分,再退\(p("more"))分将超过实付的\(p("paid"))分"
        case .applicationReceived: return "申请已受理"
        case .stuckAlerted:
            return "退款自\(when ?? p("at"))起停留在“\(stepName(p("state"), .zh))”环节没有进展,已通知运营人员"
        case .ticketOpened: return "已创建跟进工单:\(p("text"))"
        }
    }

    /// A payment channel by name.
    public static func channelName(_ raw: String, _ locale: BuyerLocale) -> String {
        guard let c = PaymentChannel(rawValue: raw) else { return raw }
        switch (c, locale) {
        case (.balance, .zh): return "平台余额"
        case (.alipay, .zh): return "支付宝"
        case (.wechat, .zh): return "微信支付"
        case (.bankCard, .zh): return "银行卡"
        case (.creditCard, .zh): return "信用卡"
        case (_, .en): return raw
        }
    }

    /// A step of the refund by name (the state machine's own words in English).
    public static func stepName(_ raw: String, _ locale: BuyerLocale) -> String {
        guard locale == .zh, let s = RefundState(rawValue: raw) else { return raw }
        switch s {
        case .submitted: return "已提交"
        case .needsEvidence: return "待补充材料"
        case .manualReview: return "人工审核"
        case .rejected: return "已驳回"
        case .appealed: return "申诉中"
        case .rejectedFinal: return "最终驳回"
        case .approved: return "已通过"
        case .supplierVerification: return "供货商核实"
        case .disputed: return "仲裁中"
        case .processing: return "退款处理中"
        case .payoutFailed: return "退款失败"
        case .credited: return "已到账"
        case .withdrawn: return "已撤回"
        }
    }

    /// An evidence kind by name, as a buyer is asked for it.
    public static func evidenceName(_ raw: String, _ locale: BuyerLocale) -> String {
        guard let k = EvidenceKind(rawValue: raw) else { return raw }
        let (zh, en): (String, String) = switch k {
        case .orderNumber: ("订单号", "the order number")
        case .activationFailureLog: ("激活失败记录", "the activation-failure log")
        case .unusedProof: ("未使用证明", "proof the item is unused")
        case .loginScreenshot: ("登录截图", "a login screenshot")
        case .usageRecord: ("使用记录", "the usage record")
        case .packagePhoto: ("包裹照片", "a photo of the package")
        case .trackingNumber: ("物流单号", "the tracking number")
        case .orderPage: ("订单页面截图", "the order page")
        case .deliveryStatus: ("物流状态", "the delivery status")
        case .paymentStatement: ("支付凭证", "the payment statement")
        case .productPage: ("商品页面截图", "the product page")
        case .differenceProof: ("与描述不符的证明", "proof of the difference from the description")
        case .other: ("其他材料", "anything else")
        }
        return locale == .zh ? zh : en
    }

    /// Requirements as a list in the buyer's words: comma-separated, each a kind or alternatives joined by `|`
    /// (`EvidenceRequirement.name`).
    public static func evidenceList(_ raw: String, _ locale: BuyerLocale) -> String {
        evidenceList(raw.split(separator: ",").map(String.init), locale)
    }

    public static func evidenceList(_ requirements: [String], _ locale: BuyerLocale) -> String {
        requirements.map { r in
            r.split(separator: "|").map { evidenceName(String($0), locale) }.joined(separator: locale == .zh ? "或" : " or ")
        }.joined(separator: locale == .zh ? "、" : ", ")
    }

    /// `¥12.34` from fen, by integer arithmetic (never floating point).
    public static func yuan(_ m: Money) -> String {
        let fen = m.minorUnits
        let sign = fen < 0 ? "-" : ""
        let abs = fen.magnitude
        let symbol = m.currency.code == "CNY" ? "¥" : m.currency.code + " "
        return "\(sign)\(symbol)\(abs / 100).\(String(format: "%02d", Int(abs % 100)))"
    }

    private static func amount(_ e: Explanation) -> String {
        guard let fen = e.params["amount"].flatMap(Int64.init), let currency = e.params["currency"].flatMap(Currency.init),
              let money = try? Money(minorUnits: fen, currency: currency) else { return e.params["amount"] ?? "" }
        return yuan(money)
    }
}
