/// The reviewer console (`GET /console`): one page, no build step, nothing from a CDN. It signs in with a reviewer
/// credential kept in the tab's sessionStorage and uses the same API and authorization as everyone else (a buyer's
/// credential gets the API's 403 and sees nothing). Everything the buyer or a supplier wrote is put on the page with
/// `textContent`, never as HTML. Chinese and English.
enum ConsolePage {
    static let bytes: [UInt8] = Array(html.utf8)

    /// No script or style from elsewhere, no framing, no inline event handlers needed.
    static let securityPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
        + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static let html = #"""
<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Refund review console</title>
<style>
body { font: 14px/1.45 system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: center; }
header h1 { font-size: 16px; margin: 0; flex: 1; }
header button, header a { color: #fff; background: none; border: 1px solid #fff6; border-radius: 4px; padding: 4px 10px; cursor: pointer; text-decoration: none; }
main { padding: 16px 20px; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; }
tr.case { cursor: pointer; } tr.case:hover { background: #f0f6ff; }
.mark { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; margin-right: 4px; }
.overdue { background: #fde2e1; color: #a1150f; } .risk { background: #fff1cc; color: #7a5300; } .flag { background: #e8dcff; color: #4a1d96; }
section { background: #fff; border: 1px solid #e3e6eb; border-radius: 6px; padding: 12px 16px; margin-bottom: 12px; }
section h2 { font-size: 15px; margin: 0 0 8px; }
.evidence-text { white-space: pre-wrap; background: #f7f7f9; border-left: 3px solid #c5cbd6; padding: 4px 8px; margin: 4px 0; }
.msg { padding: 8px 12px; border-radius: 4px; margin: 8px 0; } .msg.error { background: #fde2e1; } .msg.ok { background: #dff5e3; }
label { margin-right: 12px; } input[type=text], input[type=number], textarea { padding: 4px 6px; border: 1px solid #c5cbd6; border-radius: 4px; }
button.action { padding: 6px 14px; border-radius: 4px; border: 1px solid #2957d9; background: #2957d9; color: #fff; cursor: pointer; margin-right: 8px; }
button.secondary { background: #fff; color: #2957d9; }
.muted { color: #6b7385; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <a href="#queue" id="nav-queue"></a><a href="#tickets" id="nav-tickets"></a><a href="#rates" id="nav-rates"></a>
  <button id="lang"></button><button id="signout"></button>
</header>
<main id="app"></main>
<script>
"use strict";
const T = {
  zh: { title: "退款审核台", queue: "审核队列", tickets: "跟进工单", rates: "退款率", lang: "English", signout: "退出",
        signin: "登录", credential: "审核员凭证", signinHint: "请输入审核员凭证（仅保存在本标签页）。",
        notReviewer: "该凭证不是审核员凭证，无法打开审核台。", badCredential: "凭证无效或已过期。",
        empty: "队列为空。", refund: "退款", state: "状态", reason: "原因", amount: "金额", buyer: "买家", created: "申请时间",
        overdue: "已超时", risk: "风险", back: "返回队列", application: "申请", evidence: "凭证", history: "买家历史",
        findings: "预审结论", supplier: "供货商答复", timeline: "时间线", actions: "处理", approve: "批准",
        approveAmount: "批准金额（元，留空为全额）", reject: "驳回", rejectReason: "驳回原因", askEvidence: "要求补充凭证",
        missing: "需补充（逗号分隔）", done: "已提交：", noSupplier: "尚无供货商答复。", appealNote: "申诉案件：需由另一位审核员处理。",
        answer: "答复", close: "答复并关闭", noTickets: "没有待处理工单。", order: "订单", line: "订单行",
        requested: "申请金额", route: "退款去向", addedBy: "提交者", key: "对象", day: "当日", week: "近7日", days30: "近30日",
        flagged: "异常上升", dimension: "维度", product: "商品", supplierDim: "供货商", reasonDim: "原因", incidents: "事件" },
  en: { title: "Refund review console", queue: "Review queue", tickets: "Follow-up tickets", rates: "Refund rates", lang: "中文",
        signout: "Sign out", signin: "Sign in", credential: "Reviewer credential",
        signinHint: "Enter your reviewer credential (kept in this tab only).",
        notReviewer: "This credential is not a reviewer's: the console cannot be opened with it.",
        badCredential: "The credential is invalid or expired.", empty: "The queue is empty.", refund: "Refund", state: "State",
        reason: "Reason", amount: "Amount", buyer: "Buyer", created: "Applied", overdue: "overdue", risk: "risk",
        back: "Back to the queue", application: "Application", evidence: "Evidence", history: "Buyer's history",
        findings: "Pre-check findings", supplier: "Supplier's answer", timeline: "Timeline", actions: "Decide",
        approve: "Approve", approveAmount: "Amount to approve (yuan; empty: in full)", reject: "Reject",
        rejectReason: "Reason for rejecting", askEvidence: "Ask for evidence", missing: "Missing (comma-separated)",
        done: "Sent: ", noSupplier: "No answer from the supplier yet.",
        appealNote: "An appeal: it must be decided by another reviewer.", answer: "Answer", close: "Answer and close",
        noTickets: "No open tickets.", order: "Order", line: "Line", requested: "Requested", route: "Paid back to",
        addedBy: "added by", key: "Key", day: "Day", week: "7 days", days30: "30 days", flagged: "rising abnormally",
        dimension: "By", product: "product", supplierDim: "supplier", reasonDim: "reason", incidents: "Incidents" }
};
let lang = localStorage.getItem("console.lang") || "zh";
const t = k => T[lang][k] || k;
const app = document.getElementById("app");
const token = () => sessionStorage.getItem("console.token");

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const yuan = m => m ? (m.currency === "CNY" ? "¥" : m.currency + " ") + (m.minorUnits / 100).toFixed(2) : "—";
const when = s => s ? new Date(s).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "—";
function message(text, kind) { const m = el("div", { class: "msg " + kind, id: "message" }, text); return m; }

async function api(method, path, body) {
  // Reasons come back worded in the console's language (the API renders them from their codes).
  const headers = { "Authorization": "Bearer " + token(), "Accept-Language": lang };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; headers["Idempotency-Key"] = crypto.randomUUID(); }
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = {}; try { json = await r.json(); } catch (e) {}
  return { status: r.status, json };
}

function chrome() {
  document.getElementById("title").textContent = t("title");
  document.getElementById("nav-queue").textContent = t("queue");
  document.getElementById("nav-tickets").textContent = t("tickets");
  document.getElementById("nav-rates").textContent = t("rates");
  document.getElementById("lang").textContent = t("lang");
  document.getElementById("signout").textContent = t("signout");
  document.documentElement.lang = lang;
}
document.getElementById("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("console.lang", lang); route(); });
document.getElementById("signout").addEventListener("click", () => { sessionStorage.removeItem("console.token"); location.hash = ""; route(); });
window.addEventListener("hashchange", route);

function signIn(note) {
  const input = el("input", { type: "password", id: "credential", size: "48", autocomplete: "off" });
  const form = el("form", { id: "signin" }, el("p", {}, t("signinHint")), el("label", {}, t("credential") + " "), input, " ",
    el("button", { class: "action", type: "submit", id: "signin-button" }, t("signin")));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    sessionStorage.setItem("console.token", input.value.trim());
    const r = await api("GET", "/v1/review/queue");
    if (r.status === 200) { location.hash = "#queue"; route(); return; }
    sessionStorage.removeItem("console.token");
    signIn(r.status === 403 ? t("notReviewer") : t("badCredential"));
  });
  app.replaceChildren(el("section", {}, el("h2", {}, t("signin")), note ? message(note, "error") : null, form));
}

function marks(item) {
  const out = [];
  if (item.overdue) out.push(el("span", { class: "mark overdue" }, t("overdue")));
  const rules = [item.findings && item.findings.rule, ...((item.findings && item.findings.amountRules) || [])];
  if (rules.some(r => r && r.startsWith("R-RISK"))) out.push(el("span", { class: "mark risk" }, t("risk")));
  for (const i of item.refund.incidents || []) out.push(el("span", { class: "mark flag" }, i));
  return out;
}

let queueItems = [];
// Each navigation has a number; a view whose data arrives after the reviewer has moved on is not drawn.
let navigation = 0;
async function showQueue() {
  const mine = navigation;
  const r = await api("GET", "/v1/review/queue");
  if (mine !== navigation) return;
  if (r.status !== 200) return signIn(r.status === 403 ? t("notReviewer") : t("badCredential"));
  queueItems = r.json.items || [];
  if (!queueItems.length) { app.replaceChildren(el("section", {}, el("h2", {}, t("queue")), el("p", { id: "queue-empty" }, t("empty")))); return; }
  const rows = queueItems.map(item => el("tr", { class: "case", "data-refund": item.refund.id, onclick: () => { location.hash = "#case/" + item.refund.id; } },
    el("td", {}, ...marks(item)), el("td", {}, item.refund.id.slice(0, 8)), el("td", {}, item.refund.state),
    el("td", {}, item.refund.reason), el("td", {}, yuan(item.refund.requestedAmount || item.refund.amount)),
    el("td", {}, item.buyerId), el("td", {}, when(item.refund.createdAt))));
  app.replaceChildren(el("section", {}, el("h2", {}, t("queue")),
    el("table", { id: "queue" }, el("tr", {}, ...["", t("refund"), t("state"), t("reason"), t("amount"), t("buyer"), t("created")].map(h => el("th", {}, h))), ...rows)));
}

async function showCase(id) {
  const mine = navigation;
  const r = await api("GET", "/v1/review/queue");
  if (mine !== navigation) return;
  if (r.status !== 200) return signIn(r.status === 403 ? t("notReviewer") : t("badCredential"));
  queueItems = r.json.items || [];
  const item = queueItems.find(i => i.refund.id === id);
  if (!item) { app.replaceChildren(message(t("empty"), "error"), el("a", { href: "#queue" }, t("back"))); return; }
  const f = item.refund;
  const evidence = (f.evidence || []).map(e => el("li", { class: "evidence" },
    el("strong", {}, e.kind), " ", e.reference ? el("span", { class: "muted" }, "(" + e.reference + ") ") : null,
    el("span", { class: "muted" }, when(e.addedAt) + (e.addedBy ? " · " + t("addedBy") + " " + e.addedBy : "")),
    e.text ? el("div", { class: "evidence-text" }, e.text) : null));
  const supplierSteps = (f.timeline || []).filter(s => (s.actor || "").startsWith("supplier:"));
  const timeline = (f.timeline || []).map(s => el("tr", {}, el("td", {}, when(s.at)), el("td", {}, s.step), el("td", {}, s.actor),
    el("td", {}, s.rule || ""), el("td", {}, s.explanation || "")));
  const findings = item.findings ? el("ul", { id: "findings" },
    el("li", {}, item.findings.outcome + " · " + item.findings.rule + " · " + (item.findings.explanation || "")),
    ...(item.findings.amountRules || []).map(r => el("li", {}, r)),
    ...((item.findings.missingEvidence || []).length ? [el("li", {}, t("missing") + ": " + item.findings.missingEvidence.join(", "))] : [])) : el("p", { class: "muted" }, "—");
  const history = el("ul", {}, ...Object.entries(item.buyerHistory || {}).map(([k, v]) => el("li", {}, k + ": " + v)));
  const result = el("div", { id: "result" });
  const amount = el("input", { type: "number", step: "0.01", min: "0.01", id: "approve-amount" });
  const rejectReason = el("input", { type: "text", id: "reject-reason", size: "40" });
  const missing = el("input", { type: "text", id: "missing", size: "40", value: "order_page" });
  async function decide(body) {
    const r = await api("POST", "/v1/review/" + f.id + "/decision", body);
    result.replaceChildren(r.status === 202 ? message(t("done") + body.decision, "ok")
      : message((r.json.error && (r.json.error.message || r.json.error.code)) || r.json.message || ("HTTP " + r.status), "error"));
  }
  const approve = el("button", { class: "action", id: "approve", onclick: () => {
    const v = amount.value.trim();
    const body = { decision: "approve" };
    if (v) body.approvedAmount = { minorUnits: Math.round(parseFloat(v) * 100), currency: (f.requestedAmount || f.amount || { currency: "CNY" }).currency || "CNY" };
    decide(body);
  } }, t("approve"));
  const reject = el("button", { class: "action secondary", id: "reject", onclick: () => decide({ decision: "reject", reason: rejectReason.value }) }, t("reject"));
  const ask = el("button", { class: "action secondary", id: "ask-evidence", onclick: () => decide({ decision: "ask_evidence", missing: missing.value.split(",").map(s => s.trim()).filter(Boolean) }) }, t("askEvidence"));
  app.replaceChildren(
    el("p", {}, el("a", { href: "#queue", id: "back" }, "← " + t("back"))),
    el("section", { id: "application" }, el("h2", {}, t("application") + " " + f.id, " ", ...marks(item)),
      el("table", {}, ...[[t("state"), f.state], [t("reason"), f.reason], [t("order"), f.orderId], [t("line"), f.lineId],
        [t("requested"), yuan(f.requestedAmount)], [t("amount"), yuan(f.amount)], [t("route"), f.preferredRoute],
        [t("buyer"), item.buyerId], [t("created"), when(f.createdAt)], [t("incidents"), (f.incidents || []).join(", ") || "—"]]
        .map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))),
      f.state === "appealed" ? message(t("appealNote"), "ok") : null),
    el("section", {}, el("h2", {}, t("evidence")), el("ul", { id: "evidence" }, ...evidence)),
    el("section", {}, el("h2", {}, t("findings")), findings),
    el("section", {}, el("h2", {}, t("supplier")), supplierSteps.length ? el("ul", { id: "supplier" }, ...supplierSteps.map(s => el("li", {}, when(s.at) + " " + s.actor + ": " + (s.explanation || s.step)))) : el("p", { class: "muted" }, t("noSupplier"))),
    el("section", {}, el("h2", {}, t("history")), history),
    el("section", {}, el("h2", {}, t("timeline")), el("table", { id: "timeline" }, ...timeline)),
    el("section", { id: "actions" }, el("h2", {}, t("actions")),
      el("p", {}, el("label", {}, t("approveAmount") + " "), amount, " ", approve),
      el("p", {}, el("label", {}, t("rejectReason") + " "), rejectReason, " ", reject),
      el("p", {}, el("label", {}, t("missing") + " "), missing, " ", ask), result));
}

async function showTickets() {
  const mine = navigation;
  const r = await api("GET", "/v1/review/tickets");
  if (mine !== navigation) return;
  if (r.status !== 200) return signIn(r.status === 403 ? t("notReviewer") : t("badCredential"));
  const open = (r.json.tickets || []).filter(x => x.state === "open");
  if (!open.length) { app.replaceChildren(el("section", {}, el("h2", {}, t("tickets")), el("p", {}, t("noTickets")))); return; }
  app.replaceChildren(el("section", {}, el("h2", {}, t("tickets")), ...open.map(x => {
    const answer = el("textarea", { rows: "2", cols: "60" });
    const out = el("div", {});
    return el("div", { class: "ticket" }, el("p", {}, el("strong", {}, x.reason), " ", el("span", { class: "muted" }, when(x.openedAt) + " · " + x.refundId)),
      x.note ? el("div", { class: "evidence-text" }, x.note) : null, answer, " ",
      el("button", { class: "action", onclick: async () => {
        const c = await api("POST", "/v1/review/tickets/" + x.id + "/close", { answer: answer.value });
        out.replaceChildren(c.status === 200 ? message(t("done") + t("close"), "ok") : message("HTTP " + c.status, "error"));
      } }, t("close")), out);
  })));
}

async function showRates() {
  const dim = (location.hash.split("/")[1]) || "product";
  const mine = navigation;
  const r = await api("GET", "/v1/analytics/refund-rates?dimension=" + encodeURIComponent(dim));
  if (mine !== navigation) return;
  if (r.status !== 200) return signIn(r.status === 403 ? t("notReviewer") : t("badCredential"));
  const w = x => x.orders ? (x.rateBp / 100).toFixed(2) + "% (" + x.refunds + "/" + x.orders + ")" : "—";
  app.replaceChildren(el("section", {}, el("h2", {}, t("rates")),
    el("p", {}, t("dimension") + ": ", ...[["product", t("product")], ["supplier", t("supplierDim")], ["reason", t("reasonDim")]].map(([d, n]) => el("a", { href: "#rates/" + d, style: "margin-right:10px" }, n))),
    el("p", { class: "muted" }, r.json.method || ""),
    el("table", { id: "rates" }, el("tr", {}, ...[t("key"), t("day"), t("week"), t("days30"), ""].map(h => el("th", {}, h))),
      ...(r.json.rates || []).map(x => el("tr", {}, el("td", {}, x.key), el("td", {}, w(x.day)), el("td", {}, w(x.week)), el("td", {}, w(x.days30)),
        el("td", {}, x.flag ? el("span", { class: "mark flag" }, t("flagged") + " p=" + Number(x.flag.pValue).toExponential(1)) : "",
          x.record ? " " + JSON.stringify(x.record) : ""))))));
}

function route() {
  navigation += 1;
  chrome();
  if (!token()) return signIn();
  const h = location.hash || "#queue";
  if (h.startsWith("#case/")) return showCase(h.slice(6));
  if (h === "#tickets") return showTickets();
  if (h.startsWith("#rates")) return showRates();
  return showQueue();
}
route();
</script>
</body>
</html>
"""#
}
