"""The reviewer console in a real headless browser (Debian's chromium and chromedriver, selenium).

Run by Tests/ComponentTests/ConsoleTests.swift, which starts the services and prepares two cases; this script plays
the people. Settings (environment): CONSOLE_URL, BUYER_TOKEN, REVIEWER_TOKEN, REVIEWER2_TOKEN, CASE_ID (a case in
manual review whose evidence text holds a <script>), APPEAL_ID (an appeal the first reviewer rejected before),
APPROVE_YUAN (the partial amount), SCREENSHOTS (a folder). Exits 0 when every check held, else 1 naming it.
"""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

env = os.environ
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 15)
shots = env["SCREENSHOTS"]
os.makedirs(shots, exist_ok=True)


def sign_in(token):
    driver.get(env["CONSOLE_URL"] + "#queue")
    driver.execute_script("sessionStorage.clear()")
    driver.get(env["CONSOLE_URL"] + "#queue")
    field = wait.until(EC.presence_of_element_located((By.ID, "credential")))
    field.send_keys(token)
    driver.find_element(By.ID, "signin-button").click()
    # Signed in (the queue or its empty note) or refused (a message): the page has settled either way.
    wait.until(lambda d: d.find_elements(By.ID, "queue") or d.find_elements(By.ID, "queue-empty")
               or d.find_elements(By.CSS_SELECTOR, "#app .msg.error"))


def open_case(refund_id):
    """Navigates to a case and waits until that case (not the page before it) is drawn."""
    driver.get(env["CONSOLE_URL"] + "#case/" + refund_id)
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#application h2"), refund_id))
    return driver.find_element(By.ID, "approve")


def decide_result():
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#result .msg")))


try:
    # A buyer's credential cannot open the console: the API's 403, and no queue on the page.
    sign_in(env["BUYER_TOKEN"])
    error = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#app .msg.error")))
    check("reviewer" in error.text or "审核员" in error.text, "a buyer credential is refused: " + error.text)
    check(not driver.find_elements(By.ID, "queue"), "a buyer sees no queue")

    # The first reviewer: the queue with the case, then the case with its evidence shown as text.
    sign_in(env["REVIEWER_TOKEN"])
    row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-refund="{env["CASE_ID"]}"]')))
    driver.save_screenshot(os.path.join(shots, "console-queue.png"))
    check(True, "the case is in the reviewer's queue")
    row.click()
    evidence = wait.until(EC.presence_of_element_located((By.ID, "evidence")))
    check("<script>window.__pwned=1</script>" in evidence.text, "evidence text shown verbatim: " + evidence.text[:120])
    check(driver.execute_script("return window.__pwned === undefined"), "the evidence's script did not run")
    check(bool(driver.find_elements(By.ID, "findings")), "the pre-check's findings are shown")
    check(bool(driver.find_elements(By.CSS_SELECTOR, "#timeline tr")), "the timeline is shown")
    driver.find_element(By.ID, "lang").click()  # English
    wait.until(EC.text_to_be_present_in_element((By.ID, "title"), "Refund review console"))
    # The case is drawn again in English: wait for that drawing, not the Chinese one it replaces.
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#actions h2"), "Decide"))
    check(True, "the console switches to English")
    driver.save_screenshot(os.path.join(shots, "console-case.png"))
    driver.find_element(By.ID, "approve-amount").send_keys(env["APPROVE_YUAN"])
    driver.find_element(By.ID, "approve").click()
    result = decide_result()
    check("ok" in result.get_attribute("class"), "a partial approval is sent: " + result.text)

    # The appeal of a case this reviewer rejected: refused to them.
    open_case(env["APPEAL_ID"]).click()
    result = decide_result()
    check("error" in result.get_attribute("class"), "the first reviewer may not decide the appeal: " + result.text)

    # A second reviewer decides it.
    driver.find_element(By.ID, "signout").click()
    sign_in(env["REVIEWER2_TOKEN"])
    open_case(env["APPEAL_ID"]).click()
    result = decide_result()
    check("ok" in result.get_attribute("class"), "a second reviewer decides the appeal: " + result.text)
    driver.save_screenshot(os.path.join(shots, "console-appeal.png"))
except Exception as e:  # a missing element or a timeout is a failure with its reason, not a crash
    check(False, "the walk through the console stopped: %r" % e)
    driver.save_screenshot(os.path.join(shots, "console-failure.png"))
finally:
    driver.quit()

sys.exit(1 if failures else 0)
