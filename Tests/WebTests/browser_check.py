#!/usr/bin/env python3
"""Drives qofd's web view in real headless Chromium (Selenium + Debian's chromium-driver).

Signs in, opens the dashboard, drills into an indicator, opens a patient's explanation from the
worklist, explains a patient who is not in the report, exports the worklist as CSV, opens the
inequalities and PCN pages, checks what each page says, and takes a screenshot of each.
Prints one JSON object of findings on stdout; exits non-zero (with the reason) on any failure.

usage: browser_check.py BASE_URL USER PASSWORD PRACTICE PCN OUTPUT_DIR
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, user, password, practice, pcn, out = sys.argv[1:7]
os.makedirs(out, exist_ok=True)
downloads = os.path.join(out, "downloads")
os.makedirs(downloads, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600"]:
    options.add_argument(arg)
options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
findings = {"screenshots": [], "urls": []}


def check(condition, message):
    if not condition:
        driver.save_screenshot(os.path.join(out, "failure.png"))
        raise SystemExit(f"browser check failed: {message} (at {driver.current_url})")


def shot(name):
    path = os.path.join(out, f"{name}.png")
    driver.save_screenshot(path)
    findings["screenshots"].append(path)
    findings["urls"].append(driver.current_url)


def gone(element):
    """True once an element of the previous page no longer belongs to the document. Chromium may answer
    a question about a node of a page being replaced with a stale-element error or with an inspector error
    ("Node with given id does not belong to the document"); both mean the old page is gone."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def navigate(action):
    """Runs an action that loads a new page and waits until the old page is gone."""
    old = driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(driver, 20).until(lambda d: gone(old))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text(css):
    return driver.find_element(By.CSS_SELECTOR, css).text


try:
    # Sign in.
    driver.get(base + "/practice/" + practice)
    check("/login" in driver.current_url, "an anonymous visitor is sent to the sign-in page")
    shot("01-sign-in")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    navigate(lambda: driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click())
    check(driver.find_element(By.TAG_NAME, "h1").text == "Practices and PCNs", "signed in, the home page lists practices")
    shot("02-home")

    # Dashboard.
    navigate(lambda: driver.find_element(By.CSS_SELECTOR, f"a[href='/practice/{practice}']").click())
    check(practice in driver.find_element(By.TAG_NAME, "h1").text, "the dashboard names the practice")
    findings["practiceHeading"] = driver.find_element(By.TAG_NAME, "h1").text
    findings["points"] = text("#points")
    findings["pounds"] = text("#pounds")
    findings["atStakeTotal"] = text("#at-stake")
    rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr[id^='row-']")
    check(len(rows) >= 20, f"the dashboard lists the indicators ({len(rows)})")
    findings["indicatorOrder"] = [r.get_attribute("id")[4:] for r in rows]
    stakes = [r.find_elements(By.TAG_NAME, "td")[6].text for r in rows]
    findings["atStake"] = [float(s.lstrip("£").replace(",", "")) for s in stakes if s != "not assessed"]
    findings["notAssessed"] = [r.get_attribute("id")[4:] for r, s in zip(rows, stakes) if s == "not assessed"]
    check(all(s == "not assessed" for s in stakes[len(findings["atStake"]):]),
          "indicators that cannot be computed take no place in the at-stake order (they come last)")
    for r, s in zip(rows, stakes):
        if s == "not assessed":
            check("cannot be computed" in r.text, "an indicator on missing code lists says it cannot be computed, never a plain 0 %")
    findings["trendCharts"] = len(driver.find_elements(By.CSS_SELECTOR, "tbody svg[role='img'] polyline"))
    check(len(driver.find_elements(By.CSS_SELECTOR, ".rag")) == len(rows), "every indicator has a traffic light")
    check("period" in driver.find_element(By.TAG_NAME, "main").text, "days left to the period end are shown")
    shot("03-dashboard")

    # Indicator page: funnel and worklist.
    navigate(lambda: driver.find_element(By.CSS_SELECTOR, "#row-HYP008 a").click())
    check(driver.find_element(By.TAG_NAME, "h1").text.startswith("HYP008"), "the indicator page opens")
    funnel = [[c.text for c in r.find_elements(By.CSS_SELECTOR, "th,td")] for r in driver.find_elements(By.CSS_SELECTOR, "#funnel tbody tr")]
    findings["funnel"] = funnel
    worklist = driver.find_elements(By.CSS_SELECTOR, "#worklist tbody tr")
    findings["worklistShown"] = len(worklist)
    heading = [h.text for h in driver.find_elements(By.TAG_NAME, "h2") if h.text.startswith("Worklist")]
    check(heading, "the worklist is shown")
    findings["worklistCount"] = int(heading[0].split("(")[-1].rstrip(")"))
    check(all("not yet" in r.text for r in worklist[:20]), "each worklist entry says what is missing")
    findings["newPatients"] = len(driver.find_elements(By.CSS_SELECTOR, "#new-patients tbody tr"))
    shot("04-indicator")

    # Filter the worklist, then export it.
    box = driver.find_element(By.ID, "q")
    box.send_keys("on 2026-")
    navigate(box.submit)
    filtered = driver.find_elements(By.CSS_SELECTOR, "#worklist tbody tr")
    findings["filtered"] = len(filtered)
    check(0 < len(filtered) <= findings["worklistShown"], "the filter narrows the worklist")
    driver.find_element(By.ID, "export").click()
    deadline = time.time() + 20
    csv_files = []
    while time.time() < deadline:
        # Done when the file is there with its content and Chromium has no partial download left.
        names = os.listdir(downloads)
        csv_files = [f for f in names if f.endswith(".csv") and os.path.getsize(os.path.join(downloads, f)) > 0]
        if csv_files and not any(f.endswith(".crdownload") for f in names):
            break
        time.sleep(0.2)
    check(csv_files, "the worklist downloads as CSV")
    with open(os.path.join(downloads, csv_files[0])) as f:
        lines = f.read().splitlines()
    check(lines[0].startswith("\ufeffpatient_id,nhs_number,date_of_birth,age,sex,indicator,missing"), "the CSV has its header, after a byte order mark for Excel")
    findings["csvRows"] = len(lines) - 1
    findings["csvFile"] = csv_files[0]

    # Explanation from the worklist (a form post: the patient id never appears in an address).
    first_patient = filtered[0].find_elements(By.TAG_NAME, "td")[0].text
    navigate(lambda: filtered[0].find_element(By.CSS_SELECTOR, "button").click())
    check("Rule by rule" in driver.find_element(By.TAG_NAME, "main").text, "the explanation page shows the rules")
    check(first_patient not in driver.current_url, "the patient id is not in the address")
    findings["explainedPatient"] = first_patient
    findings["explainedOutcome"] = text("#outcomes tbody").strip()
    shot("05-explanation")

    # A patient who is in no report: ask by identifier.
    driver.get(base + f"/practice/{practice}/patient")
    driver.find_element(By.ID, "patient").send_keys(f"{practice}-2")
    navigate(lambda: driver.find_element(By.CSS_SELECTOR, "main form button").click())
    check(f"Patient {practice}-2" in driver.find_element(By.TAG_NAME, "main").text, "any patient of the practice can be explained")
    findings["anyPatientOutcomes"] = text("#outcomes tbody")
    findings["anyPatientRegisterChains"] = len(driver.find_elements(By.TAG_NAME, "h4"))
    shot("06-any-patient")

    # Inequalities.
    driver.get(base + f"/practice/{practice}/inequalities?ruleset=flu-2025-26&indicator=FLU_65PLUS")
    check("Deprivation" in driver.find_element(By.TAG_NAME, "main").text, "the inequalities page shows deprivation")
    findings["gap"] = text("#gap")
    shot("07-inequalities")

    # PCN view.
    driver.get(base + f"/pcn/{pcn}")
    check(pcn in driver.find_element(By.TAG_NAME, "h1").text, "the PCN page opens")
    # Practice columns read "Name (ODS)": the code, with the practice's name beside it.
    findings["pcnColumns"] = [th.text.rsplit("(", 1)[-1].rstrip(")") for th in driver.find_elements(By.CSS_SELECTOR, "#pcn-indicators thead th")]
    findings["pcnColumnNames"] = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#pcn-indicators thead th")]
    findings["seasonCharts"] = len(driver.find_elements(By.CSS_SELECTOR, "figure svg"))
    shot("08-pcn")

    # Sign out: the session ends.
    navigate(lambda: driver.find_element(By.CSS_SELECTOR, "header form button").click())
    driver.get(base + "/practice/" + practice)
    check("/login" in driver.current_url, "after signing out the pages need signing in again")
    print(json.dumps(findings))
finally:
    driver.quit()
