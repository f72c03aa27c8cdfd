#!/usr/bin/env python3
"""Opens every page of qofd's web view in headless Chromium at 1366 px and 390 px wide, as the accounts that
see each page, scans each with axe-core (bundled by PyPI axe-selenium-python-nhsuk), measures horizontal
overflow and takes a screenshot. Prints one JSON object: a list of page visits, each with the violations
axe found (rule, impact, how many nodes, the first targets) and the overflow in pixels. It judges nothing
itself: the Swift test reads the findings. Exits non-zero only when a page cannot be reached.

usage: accessibility_check.py BASE_URL PASSWORD PRACTICE1 PRACTICE2 PCN OUTPUT_DIR
"""
import json
import os
import sys

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, password, practice1, practice2, pcn, out = sys.argv[1:7]
os.makedirs(out, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,900"]:
    options.add_argument(arg)
WIDTHS = [(1366, 900, False), (390, 844, True)]

# Who sees which pages. GET pages only, plus the explanation (a form post) for the practice user.
PAGES = {
    None: [("sign-in", "/login"), ("not-found", "/no-such-page")],
    "practice1": [
        ("home", "/"),
        ("dashboard", f"/practice/{practice1}?ruleset=qof-2025-26"),
        ("dashboard-flu", f"/practice/{practice1}?ruleset=flu-2025-26"),
        ("this-week", f"/practice/{practice1}/this-week"),
        ("indicator", f"/practice/{practice1}/indicator/HYP008?ruleset=qof-2025-26"),
        ("indicator-by-risk", f"/practice/{practice1}/indicator/DM020?ruleset=qof-2025-26&sort=risk"),
        ("explain-form", f"/practice/{practice1}/patient"),
        ("inequalities", f"/practice/{practice1}/inequalities?ruleset=qof-2025-26&indicator=HYP008"),
        ("reports", "/reports"),
        ("population", f"/practice/{practice1}/population"),
        ("cohorts", f"/practice/{practice1}/cohorts"),
        ("interventions", f"/practice/{practice1}/interventions"),
        ("cohort", f"/practice/{practice1}/cohort/qrisk3-no-statin"),
        ("declaration-viewer", f"/practice/{practice1}/declaration?ruleset=qof-2025-26"),
        ("not-your-practice", f"/practice/{practice2}"),
    ],
    "pcnlead": [
        ("pcn", f"/pcn/{pcn}"),
        ("pcn-inequalities", f"/pcn/{pcn}/inequalities?ruleset=flu-2025-26&indicator=FLU_65PLUS"),
        ("pcn-population", f"/pcn/{pcn}/population"),
        ("pcn-cohorts", f"/pcn/{pcn}/cohorts"),
    ],
    "declarer2": [("declaration-declarer", f"/practice/{practice2}/declaration?ruleset=qof-2025-26")],
    "pcndeclarer": [("pcn-declaration", f"/pcn/{pcn}/declaration?ruleset=des-2025-26"),
                    ("dashboard-des", f"/pcn/{pcn}")],
    "approver": [
        ("home-approver", "/"),
        ("declaration-approver", f"/practice/{practice2}/declaration?ruleset=qof-2025-26"),
    ],
}


def sign_in(driver, user):
    driver.delete_all_cookies()
    if user is None:
        return
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    try:
        WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url)
    except TimeoutException:
        raise SystemExit(f"accessibility check: cannot sign in as {user}")


def scan(driver, name, width, height, mobile, visits):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    # Against the width asked for: a phone browser zooms out a page that is too wide, so innerWidth would grow with it.
    overflow = driver.execute_script("return Math.max(0, document.documentElement.scrollWidth - arguments[0])", width)
    shot = os.path.join(out, f"{name}-{width}.png")
    driver.save_screenshot(shot)
    visits.append({
        "page": name, "width": width, "url": driver.current_url, "screenshot": shot, "overflow": overflow,
        "title": driver.title,
        "violations": [
            {"id": v["id"], "impact": v.get("impact"), "help": v.get("help"), "nodes": len(v["nodes"]),
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]}
            for v in results["violations"]
        ],
    })


driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
visits = []
try:
    for user, pages in PAGES.items():
        sign_in(driver, user)
        for name, path in pages:
            driver.get(base + path)
            for width, height, mobile in WIDTHS:
                scan(driver, name, width, height, mobile, visits)
        if user == "practice1":
            # The explanation page is the answer to a form.
            driver.get(base + f"/practice/{practice1}/patient")
            driver.find_element(By.ID, "patient").send_keys(f"{practice1}-2")
            driver.find_element(By.CSS_SELECTOR, "main form button").click()
            WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "outcomes"))
            for width, height, mobile in WIDTHS:
                scan(driver, "explanation", width, height, mobile, visits)
            # An intervention recorded through the worklist's form lands on its own page.
            driver.get(base + f"/practice/{practice1}/indicator/HYP008?ruleset=qof-2025-26")
            driver.find_element(By.ID, "intervention-name").send_keys("Accessibility check recall")
            driver.find_element(By.ID, "intervention-first").send_keys("3")
            driver.find_element(By.CSS_SELECTOR, "#intervention-form button").click()
            WebDriverWait(driver, 20).until(lambda d: "/intervention/" in d.current_url)
            for width, height, mobile in WIDTHS:
                scan(driver, "intervention", width, height, mobile, visits)
    print(json.dumps({"visits": visits}))
finally:
    driver.quit()
