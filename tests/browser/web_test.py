"""The web port in a real browser (harness.py): what each kind of party sees and may do, that
nothing a view excludes reaches the browser, that the page's rules hold (no certificate, wrong
kind, cross-site POST), and that every page passes an automated WCAG 2.1 AA check."""

import base64
import hashlib
import json
import pathlib
import shutil
import sys
import tempfile
import time
import unittest

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

import harness

# Valid test identity numbers (never a real person's).
PERSON = "15076500565"
OTHER_PERSON = "31129987688"
WRONG_NUMBER = "15076500566"  # Its check digits do not add up.
# In the prison's notice but not in the municipality's view of it (its least-data view).
NOTE_MARKER = "Notat-som-kommunen-ikke-skal-se"


def inbox_rows(driver, unacknowledged=False):
    """The inbox's rows as (delivery id, link text), read in one step: the live list is replaced
    whenever the server says it changed, so elements found earlier may be gone."""
    selector = "tr.unacknowledged[data-delivery]" if unacknowledged else "tr[data-delivery]"
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " r => [r.dataset.delivery, r.querySelector('a').textContent.trim()]);", selector)


def post_from_page(driver, path, fields):
    """POSTs `fields` as a form from the page (same origin, as a resubmission would), and returns
    the response's (status, final URL, text)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', body: new URLSearchParams(arguments[1])})"
        ".then(r => r.text().then(t => done([r.status, r.url, t])));", path, fields)


def click_fresh(driver, selector):
    """Clicks the element the selector names, finding it again if the live list replaced it."""
    def click(d):
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True
    WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(click)


class WebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.install_certificate_policy()
        cls.addClassCleanup(harness.remove_certificate_policy)
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="infoflyt-browser-"))
        cls.daemon = harness.Daemon(cls.root)
        cls.browsers = []

    @classmethod
    def tearDownClass(cls):
        for b in cls.browsers:
            b.quit()
        cls.daemon.stop()
        log = cls.daemon.log_text()
        shutil.rmtree(cls.root, ignore_errors=True)
        # For a failure's diagnosis (ctest shows it only then): the daemon's last lines.
        print("\n".join(["-- infoflytd's last log lines:"] + log.splitlines()[-40:]),
              file=sys.stderr)
        # Nothing the daemon logged carries an identity number used, valid or not.
        for number in (PERSON, OTHER_PERSON, WRONG_NUMBER):
            assert number not in log, "an identity number reached the daemon's log"

    def browser(self, party):
        b = harness.Browser(self.daemon, party, self.root)
        self.browsers.append(b)
        return b

    def post_flagged_release_notice(self):
        """PST flags the person; a prison posts a release notice about him, so his home
        municipality (Oslo) gets its reduced view on PST's behalf. Returns the message id."""
        self.daemon.cli("pst-pst", "flag", "add", "--reason", "returned-foreign-fighter",
                        "--basis", "polregl-27-2", national_id=PERSON)
        receipt = self.daemon.cli(
            "correctional-oslo-fengsel", "post", "release", "--basis", "strgjfl-4i", "--tlp",
            "amber", "--kind", "parole", "--at", "2027-01-15T09:00:00Z", "--given-name", "Ola",
            "--family-name", "Nordmann", "--municipality", "0301", "--contact-name", "Kari Vakt",
            "--contact-unit", "Oslo fengsel", "--contact-phone", "+47 23 00 00 00", "--note",
            NOTE_MARKER, national_id=PERSON)
        return json.loads(receipt.stdout)["message_id"]

    def assert_no_serious_violations(self, browser, page):
        violations = [v for v in browser.axe() if v.get("impact") in ("serious", "critical")]
        self.assertEqual(
            [], [(v["id"], v.get("description"), [n.get("target") for n in v.get("nodes", [])])
                 for v in violations], f"accessibility violations on {page}")

    def test_municipality_sees_a_notice_live_reads_only_its_view_and_acknowledges_it(self):
        browser = self.browser("municipality-0301")
        browser.get("/inbox")
        self.assertIn("Innboks", browser.driver.title)
        self.assert_no_serious_violations(browser, "the inbox")
        WebDriverWait(browser.driver, 10).until(  # Its live stream is open.
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, "#inbox-list[data-live=true]")))
        before = {d for d, _ in inbox_rows(browser.driver)}
        browser.responses()  # Forget the page's own load.
        message_id = self.post_flagged_release_notice()

        def new_row(driver):
            return next(((d, text) for d, text in inbox_rows(driver, unacknowledged=True)
                         if d not in before), False)
        # It appears without a reload.
        delivery, text = WebDriverWait(browser.driver, 20).until(new_row)
        self.assertEqual("Varsel om løslatelse", text)
        WebDriverWait(browser.driver, 5).until(lambda d: "1 ny melding" in d.find_element(
            By.ID, "live-status").text)
        browser.screenshot("inbox-municipality")
        self.assert_no_serious_violations(browser, "the inbox with a notice")
        # Read while the inbox is the page: its responses' bodies go with it.
        responses = browser.responses()
        click_fresh(browser.driver, f'tr[data-delivery="{delivery}"] a')
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "form.ack")))
        page = browser.driver.page_source
        # Whom to call: the district's radicalisation contact, as the municipality's view names.
        self.assertIn("Radikaliseringskontakten", page)
        self.assertIn("Oslo (0301)", page)
        self.assertIn("politiregisterloven § 27 annet ledd", page)  # PST's basis, cited.
        browser.screenshot("delivery-municipality")
        self.assert_no_serious_violations(browser, "a delivery's page")
        # What the municipality's view leaves out is nowhere: not in the page, not in any
        # response the browser got.
        responses += browser.responses()
        # The notice's list and its page reached the browser and are among those checked.
        checked = [url for url, _ in responses]
        self.assertTrue(any(u.endswith("/inbox/list") for u in checked), checked)
        self.assertTrue(any("/deliveries/" in u for u in checked), checked)
        for url, body in [("page", page)] + responses:
            self.assertNotIn(NOTE_MARKER, body, url)
            self.assertNotIn("Prøveløslatelse", body, url)
            self.assertNotIn("PAROLE", body, url)
            self.assertNotIn("Kari Vakt", body, url)  # The prison's own contact.
        browser.driver.find_element(By.CSS_SELECTOR, "form.ack button").click()
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".notice-ok")))
        # The gRPC status says so: PST, on whose behalf the municipality was told, sees it
        # acknowledged (the prison's own basis does not reach municipalities, so its status
        # does not list them).
        status = json.loads(self.daemon.cli("pst-pst", "status", message_id).stdout)
        oslo = [r for r in status["recipients"] if r["party"] == "municipality/0301"]
        self.assertEqual(1, len(oslo), status)
        self.assertEqual("DELIVERY_STATE_ACKNOWLEDGED", oslo[0]["state"])
        self.assertIn("acknowledged_at", oslo[0])

    def fill_release_form(self, browser, national_id):
        driver = browser.driver
        form = {
            "f-release_notice-person-national_id": national_id,
            "f-release_notice-person-given_name": "Kari",
            "f-release_notice-person-family_name": "Nordmann",
            "f-release_notice-planned_at": "2027-02-01T09:00",
            "f-release_notice-contact-name": "Per Vakt",
            "f-release_notice-contact-phone": "+47 22 00 00 00",
        }
        for field_id, value in form.items():
            element = driver.find_element(By.ID, field_id)
            element.clear()
            if field_id.endswith("planned_at"):
                # Typed as a user would; the date-time control takes digits in its own order.
                driver.execute_script("arguments[0].value = arguments[1]", element, value)
            else:
                element.send_keys(value)
        Select(driver.find_element(By.ID, "f-release_notice-kind")).select_by_value(
            "RELEASE_KIND_RELEASE")
        Select(driver.find_element(By.ID, "f-release_notice-home_municipality")).select_by_value(
            "0301")
        Select(driver.find_element(By.ID, "f-legal_basis")).select_by_value("strgjfl-4i")

    def test_a_prison_posts_through_the_form_and_a_wrong_number_is_shown_at_its_field(self):
        browser = self.browser("correctional-oslo-fengsel")
        browser.get("/post/release_notice")
        self.assertIn("Send varsel om løslatelse", browser.driver.title)
        # The basis is chosen from the catalogue, shown with its citation and title.
        basis = Select(browser.driver.find_element(By.ID, "f-legal_basis"))
        self.assertTrue(any("straffegjennomføringsloven § 4 i" in o.text for o in basis.options))
        self.assert_no_serious_violations(browser, "the release notice form")
        records = self.daemon.metric("infoflyt_log_records")
        self.fill_release_form(browser, WRONG_NUMBER)
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        error = WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located(
                (By.ID, "f-release_notice-person-national_id-error")))
        # The API's own message, at that field and no other.
        self.assertIn("is not a valid fødselsnummer or D-number", error.text)
        self.assertEqual(1, len(browser.driver.find_elements(By.CSS_SELECTOR, ".field-invalid")))
        field = browser.driver.find_element(By.ID, "f-release_notice-person-national_id")
        self.assertEqual("true", field.get_attribute("aria-invalid"))
        self.assertIn("f-release_notice-person-national_id-error",
                      field.get_attribute("aria-describedby"))
        self.assertIn("Meldingen er ikke sendt", browser.driver.page_source)
        browser.screenshot("post-form-error")
        self.assert_no_serious_violations(browser, "the form with an error")
        self.assertEqual(records, self.daemon.metric("infoflyt_log_records"))  # Nothing stored.
        # Corrected, it posts; the status page lists who the prison's basis reached.
        field.clear()
        field.send_keys(PERSON)
        key = browser.driver.find_element(By.NAME, "idempotency_key").get_attribute("value")
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        WebDriverWait(browser.driver, 10).until(expected_conditions.url_contains("/messages/"))
        message_id = browser.driver.current_url.rsplit("/", 1)[1]
        page = browser.driver.page_source
        self.assertIn("Oslo politidistrikt", page)
        self.assertIn("Ikke hentet ennå", page)
        browser.screenshot("message-status")
        self.assert_no_serious_violations(browser, "the message's status page")
        # The same form sent again (a double click, a resubmission) posts nothing new.
        _, again, _ = post_from_page(browser.driver, "/post/release_notice", {
            "idempotency_key": key, "legal_basis": "strgjfl-4i", "handling": "TLP_AMBER",
            "release_notice.person.national_id": PERSON,
            "release_notice.person.given_name": "Kari",
            "release_notice.person.family_name": "Nordmann",
            "release_notice.kind": "RELEASE_KIND_RELEASE",
            "release_notice.planned_at": "2027-02-01T09:00",
            "release_notice.home_municipality": "0301",
            "release_notice.contact.name": "Per Vakt",
            "release_notice.contact.phone": "+47 22 00 00 00"})
        self.assertTrue(again.endswith("/messages/" + message_id), again)

    def test_an_auditor_searches_by_person_and_prints_the_subject_access_report(self):
        self.post_flagged_release_notice()
        self.daemon.cli(
            "correctional-oslo-fengsel", "post", "release", "--basis", "strgjfl-4i", "--tlp",
            "amber", "--kind", "release", "--at", "2027-03-01T09:00:00Z", "--given-name", "Anne",
            "--family-name", "Annen", "--municipality", "0301", "--contact-name", "Per Vakt",
            "--contact-phone", "+47 22 00 00 00", national_id=OTHER_PERSON)
        browser = self.browser("auditor-internal-control")
        browser.get("/audit")
        self.assert_no_serious_violations(browser, "the auditor console")
        reads = self.daemon.metric("infoflyt_log_records")
        browser.driver.find_element(By.ID, "f-national_id").send_keys(PERSON)
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.ID, "results-heading")))
        # The search was a recorded read: one record more.
        self.assertEqual(reads + 1, self.daemon.metric("infoflyt_log_records"))
        self.assertNotIn(PERSON, browser.driver.current_url)  # Posted, never in the address.
        shown = sorted(int(row.get_attribute("data-record")) for row in
                       browser.driver.find_elements(By.CSS_SELECTOR, "tr[data-record]"))
        # Exactly that person's records, as the gRPC query gives them; that query also lists
        # the page's search itself, a read about the person recorded before it was answered.
        listed = json.loads(self.daemon.cli("auditor-internal-control", "audit", "query",
                                            national_id=PERSON).stdout)["records"]
        search = listed[-1]
        self.assertEqual(("read", "auditor/internal-control"), (search["event"], search["sender"]))
        self.assertTrue(search["reason"].startswith("QueryDisclosures"), search)
        self.assertEqual(sorted(int(r.get("index", 0)) for r in listed[:-1]), shown)
        self.assertGreater(len(shown), 0)
        browser.screenshot("audit-search")
        self.assert_no_serious_violations(browser, "the search results")
        # The subject access report, printed to PDF by the browser.
        browser.driver.find_element(By.ID, "report-national-id").send_keys(PERSON)
        browser.driver.find_element(By.CSS_SELECTOR, "#report-national-id ~ button, "
                                    "form[action='/audit/report'] button").click()
        WebDriverWait(browser.driver, 10).until(expected_conditions.title_contains("Innsynsrapport"))
        browser.screenshot("subject-access-report")
        self.assert_no_serious_violations(browser, "the subject access report")
        pdf = harness.OUTPUT / "subject-access-report.pdf"
        printed = browser.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        pdf.write_bytes(base64.b64decode(printed["data"]))
        text = harness.run("pdftotext", "-layout", str(pdf), "-").stdout
        self.assertIn("Innsynsrapport", text)
        self.assertIn("Oslo fengsel", text)  # Who disclosed, by name ...
        self.assertIn("Oslo politidistrikt", text)  # ... to whom.
        self.assertIn("straffegjennomføringsloven", text)  # On which basis.
        self.assertIn("politiregisterloven § 66", text)  # The exemption, in plain words.
        self.assertNotIn("Skriv ut eller lagre som PDF", text)  # The print stylesheet.
        self.assertNotIn("Søk i loggen", text)  # No navigation on paper ...
        self.assertNotIn("Innlogget som", text)  # ... nor the auditor's session.

    def log_key(self):
        """The log's verifier key as its operator hands it to auditors."""
        path = self.root / "log-key.pub"
        self.daemon.cli("auditor-internal-control", "audit", "checkpoint", "--key-out", str(path))
        return path.read_text().strip()

    def verify_in_page(self, browser, key):
        """Types `key` into the page's verification panel, verifies, and returns what it says."""
        field = browser.driver.find_element(By.ID, "log-key")
        field.clear()
        field.send_keys(key)
        browser.driver.execute_script("document.getElementById('verify').dataset.verified = '';")
        browser.driver.find_element(By.ID, "verify-button").click()
        WebDriverWait(browser.driver, 10).until(lambda d: d.find_element(
            By.ID, "verify").get_attribute("data-verified") in ("true", "false"))
        return browser.driver.find_element(By.ID, "verify-result").text

    def test_an_auditor_verifies_a_record_in_the_browser_and_a_tampered_proof_fails(self):
        self.post_flagged_release_notice()
        key = self.log_key()
        browser = self.browser("auditor-internal-control")
        browser.get("/audit")
        browser.driver.find_element(By.ID, "f-national_id").send_keys(PERSON)
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.ID, "results-heading")))
        # A disclosure of the notice (the third column is the event).
        link = browser.driver.find_element(By.XPATH, "//tr[@data-record][td[3]='disclose']//a")
        index = link.text
        reads = self.daemon.metric("infoflyt_log_records")
        link.click()
        WebDriverWait(browser.driver, 10).until(expected_conditions.title_contains(f"Post {index}"))
        page = browser.driver.page_source
        self.assertIn("disclose", page)
        self.assertNotIn(PERSON, page)  # The person stands as the keyed hash only.
        self.assert_no_serious_violations(browser, "a record's page")
        said = self.verify_in_page(browser, key)
        self.assertTrue(said.startswith("Verifisert mot nøkkel " + "+".join(key.split("+")[:2])), said)
        self.assertIn(f"post {index} er med i loggen", said)
        self.assertIn("det siden viser, er det som ble loggført", said)
        browser.screenshot("audit-record-verified")
        # The page and its proof were each a recorded read.
        self.assertEqual(reads + 2, self.daemon.metric("infoflyt_log_records"))
        # A proof asked at a size that is no number: refused naming it, nothing recorded.
        status, said = browser.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])));",
            f"/audit/records/{index}/proof?tree_size=x")
        self.assertEqual(400, status)
        self.assertIn("tree_size", said)
        self.assertEqual(reads + 2, self.daemon.metric("infoflyt_log_records"))

        # A proof tampered with on its way (the test serves it): one hash of the path changed.
        browser.driver.execute_script("""
            const original = window.fetch;
            window.fetch = async (url, options) => {
              const response = await original(url, options);
              if (!String(url).includes('/proof?')) return response;
              const proof = await response.json();
              const bytes = Uint8Array.from(atob(proof.hashes[0]), c => c.charCodeAt(0));
              bytes[0] ^= 1;
              proof.hashes[0] = btoa(String.fromCharCode(...bytes));
              return new Response(JSON.stringify(proof),
                                  {headers: {'Content-Type': 'application/json'}});
            };""")
        said = self.verify_in_page(browser, key)
        self.assertEqual("Verifiseringen feilet: inklusjonsbeviset fører ikke til sjekkpunktets "
                         "rot-hash.", said)
        browser.screenshot("audit-record-tampered")
        self.assert_no_serious_violations(browser, "a record whose proof failed")
        browser.driver.refresh()  # The page's own fetch again.

        # A fact shown that is not what was logged: caught against the leaf's bytes.
        WebDriverWait(browser.driver, 10).until(lambda d: d.find_element(
            By.ID, "verify").get_attribute("data-verified") == "true")  # The kept key, at load.
        browser.driver.execute_script(
            "document.querySelector('#record-facts [data-field=\"10\"]').textContent"
            " = 'police/bergen';")
        said = self.verify_in_page(browser, key)
        self.assertEqual("Verifiseringen feilet: «Til» på siden er ikke det som ble loggført.", said)
        browser.driver.refresh()

        # Another log key (a real Ed25519 key under the log's name): not the checkpoint's signer.
        der = harness.run("sh", "-c", "openssl genpkey -algorithm ed25519 | "
                          "openssl pkey -pubout -outform DER | base64 -w0").stdout
        public = b"\x01" + base64.b64decode(der)[-32:]
        name = key.split("+", 1)[0]
        key_id = hashlib.sha256(name.encode() + b"\n" + public).hexdigest()[:8]
        other = f"{name}+{key_id}+{base64.b64encode(public).decode()}"
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.ID, "log-key")))
        said = self.verify_in_page(browser, other)
        self.assertEqual(f"Verifiseringen feilet: sjekkpunktet er ikke signert med nøkkelen "
                         f"{other}.", said)

        # The log's state: its checkpoint, verified the same way.
        browser.get("/audit/log")
        self.assertIn("Loggens tilstand", browser.driver.title)
        said = self.verify_in_page(browser, key)
        self.assertRegex(said, r"^Verifisert mot nøkkel .*: sjekkpunktet av \d+ poster er signert")
        browser.screenshot("audit-log-state")
        self.assert_no_serious_violations(browser, "the log's state")

    def test_an_auditor_sees_oversight_statistics_drawn_from_the_log(self):
        self.post_flagged_release_notice()
        self.daemon.cli("municipality-0301", "subscribe", "--ack", "--count", "1")
        browser = self.browser("auditor-internal-control")
        reads = self.daemon.metric("infoflyt_log_records")
        browser.get("/audit/statistics")
        self.assertIn("Statistikk", browser.driver.title)
        self.assertEqual(reads + 1, self.daemon.metric("infoflyt_log_records"))  # A recorded read.
        # What the log holds, as the gRPC query gives it (the page's own read came after).
        records = json.loads(self.daemon.cli("auditor-internal-control", "audit", "query",
                                             "--all", "--page-size", "1000").stdout)["records"]
        disclosed = [r for r in records if r["event"] == "disclose"]
        oslo = [r for r in disclosed if r["recipient"] == "municipality/0301"]
        oslo_acks = [r for r in records
                     if r["event"] == "acknowledge" and r["sender"] == "municipality/0301"]
        self.assertGreater(len(oslo_acks), 0)

        def charted(chart):  # What Chart.js drew: each dataset's label and sum.
            return browser.driver.execute_script(
                "const c = Chart.getChart(document.getElementById(arguments[0]));"
                "return c && c.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b)]);",
                chart)
        by_basis = charted("by-basis-chart")
        self.assertEqual(len(disclosed), sum(n for _, n in by_basis), by_basis)
        self.assertIn("straffegjennomføringsloven § 4 i", [label for label, _ in by_basis])
        by_sender = dict(charted("by-sender-chart"))
        self.assertEqual(len(disclosed), sum(by_sender.values()), by_sender)
        self.assertIn("Kriminalomsorgen", by_sender)
        # Oslo's acknowledgements: as many deliveries and acknowledgements as the log says.
        row = browser.driver.find_element(By.XPATH, "//table[@id='acknowledgements']//tr[th='Oslo kommune']")
        cells = [c.get_attribute("textContent") for c in row.find_elements(By.TAG_NAME, "td")]
        self.assertEqual([str(len(oslo)), str(len(oslo_acks))], cells[:2], cells)
        self.assertEqual(["Median", "90. persentil"], [l for l, _ in charted("acknowledgements-chart")])
        page = browser.driver.page_source
        for r in records:  # No message, no person: aggregates only.
            if r.get("message_id"):
                self.assertNotIn(r["message_id"], page)
            if r.get("subject_hash"):
                self.assertNotIn(base64.b64decode(r["subject_hash"]).hex(), page)
        browser.screenshot("audit-statistics")
        self.assert_no_serious_violations(browser, "the statistics")
        # A period the service refuses: the error at its field, nothing counted or recorded.
        reads = self.daemon.metric("infoflyt_log_records")
        browser.get("/audit/statistics?from=2026-12-01T10:00&until=2026-11-01T10:00")
        self.assertEqual(reads, self.daemon.metric("infoflyt_log_records"))
        error = browser.driver.find_element(By.CSS_SELECTOR, ".field-invalid")
        self.assertIn("f-until", error.get_attribute("innerHTML"))
        self.assertNotIn("by-basis-chart", browser.driver.page_source)

    def test_pst_flags_a_person_through_the_form_once_even_if_it_is_sent_twice(self):
        browser = self.browser("pst-pst")
        browser.get("/flags/new")
        self.assertIn("Markér en person", browser.driver.title)
        self.assert_no_serious_violations(browser, "the flag form")
        Select(browser.driver.find_element(By.ID, "f-reason")).select_by_value(
            "FLAG_REASON_RADICALISATION_CONCERN")
        Select(browser.driver.find_element(By.ID, "f-legal_basis")).select_by_value("polregl-27-2")
        records = self.daemon.metric("infoflyt_log_records")
        browser.driver.find_element(By.ID, "f-national_id").send_keys(WRONG_NUMBER)
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        error = WebDriverWait(browser.driver, 10).until(
            expected_conditions.presence_of_element_located((By.ID, "f-national_id-error")))
        self.assertIn("is not a valid fødselsnummer or D-number", error.text)
        self.assertIn("Personen er ikke markert", browser.driver.page_source)
        self.assertEqual(records, self.daemon.metric("infoflyt_log_records"))  # Nothing stored.
        self.assert_no_serious_violations(browser, "the flag form with an error")
        field = browser.driver.find_element(By.ID, "f-national_id")
        field.clear()
        field.send_keys(OTHER_PERSON)
        flag_id = browser.driver.find_element(By.NAME, "flag_id").get_attribute("value")
        browser.driver.find_element(By.CSS_SELECTOR, "form.post-form button").click()
        WebDriverWait(browser.driver, 10).until(
            expected_conditions.title_contains("Markeringen er registrert"))
        page = browser.driver.page_source
        self.assertIn("Bekymring for radikalisering", page)
        self.assertIn("politiregisterloven § 27 annet ledd", page)
        self.assertNotIn(OTHER_PERSON, page)
        self.assertNotIn(OTHER_PERSON, browser.driver.current_url)
        browser.screenshot("flag-done")
        self.assert_no_serious_violations(browser, "the flag's confirmation")
        after = self.daemon.metric("infoflyt_log_records")
        self.assertEqual(records + 1, after)  # The flag's own record.
        # The same form sent again (a double click, a resubmission): flagged once.
        flag = {"flag_id": flag_id, "national_id": OTHER_PERSON,
                "reason": "FLAG_REASON_RADICALISATION_CONCERN", "legal_basis": "polregl-27-2"}
        _, _, said = post_from_page(browser.driver, "/flags", flag)
        self.assertIn("Markeringen var allerede registrert", said)
        self.assertIn("Bekymring for radikalisering", said)  # The stored flag, shown again.
        # The same form's id for another person (a copied tab, an edited page): refused.
        status, _, _ = post_from_page(browser.driver, "/flags", {**flag, "national_id": PERSON})
        self.assertEqual(409, status)
        self.assertEqual(after, self.daemon.metric("infoflyt_log_records"))
        listed = self.daemon.cli("pst-pst", "flag", "list", "--national-id", OTHER_PERSON).stdout
        flags = [json.loads(line) for line in listed.splitlines() if line.strip()]  # One a line.
        self.assertEqual([flag_id], [f["flag_id"] for f in flags
                                     if f["reason"] == "FLAG_REASON_RADICALISATION_CONCERN"])

    def test_a_police_certificate_cannot_open_the_auditor_console(self):
        browser = self.browser("police-oslo")
        browser.get("/audit")
        self.assertIn("Ingen tilgang", browser.driver.page_source)
        self.assertNotIn("Søk i utleveringsloggen", browser.driver.page_source)

    def test_a_party_of_another_kind_is_refused_and_the_refusal_recorded(self):
        browser = self.browser("auditor-datatilsynet")
        browser.get("/inbox")
        self.assertIn("Ingen tilgang", browser.driver.page_source)
        deadline = time.time() + 10
        while "rpc=Web/Inbox" not in self.daemon.log_text() and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn('reason="kind may not call" rpc=Web/Inbox', self.daemon.log_text())
        browser.screenshot("refused-auditor-inbox")
        self.assert_no_serious_violations(browser, "the refusal page")

    def test_a_browser_without_a_client_certificate_gets_no_page(self):
        browser = self.browser(None)
        try:
            browser.get("/inbox")
        except WebDriverException:
            pass  # Some versions raise on the failed navigation.
        page = browser.driver.page_source
        self.assertNotIn("Innboks", page)
        self.assertNotIn("infoflyt", browser.driver.title)
        # The daemon is up, and refuses the handshake itself without a client certificate.
        import socket
        import ssl
        context = ssl.create_default_context(cafile=str(self.daemon.pki / "ca.pem"))
        host, port = self.daemon.web[len("https://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"GET /inbox HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    tls.recv(1)

    def test_a_cross_site_post_is_refused(self):
        browser = self.browser("municipality-0301")
        browser.get("/inbox")
        # A form on another origin posting to the daemon: the browser sends the client
        # certificate along, and Sec-Fetch-Site says cross-site.
        other = self.root / "other-site.html"
        other.write_text(
            f'<form id="f" method="post" action="{self.daemon.web}/deliveries/1/ack"></form>'
            '<script>document.getElementById("f").submit()</script>')
        browser.driver.get("file://" + str(other))
        WebDriverWait(browser.driver, 10).until(
            lambda d: "Forespørselen kom fra et annet nettsted" in d.page_source)
        self.assertIn('reason="cross-site request" rpc=Web/Ack', self.daemon.log_text())

    def test_a_cross_site_subresource_get_is_refused_and_a_pasted_number_is_masked(self):
        browser = self.browser("municipality-0301")
        browser.get("/inbox")
        # Another site embedding a delivery's page (which would mark it received) is refused;
        # the user's own navigation is not.
        other = self.root / "embedding-site.html"
        other.write_text(f'<img src="{self.daemon.web}/deliveries/1" alt="">')
        browser.driver.get("file://" + str(other))
        deadline = time.time() + 10
        while "rpc=Web/Delivery" not in self.daemon.log_text() and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn('reason="cross-site request" rpc=Web/Delivery', self.daemon.log_text())
        # An identity number pasted into the address: 404, and the access log masks it (the
        # class's teardown checks no identity number reached the log).
        browser.get("/deliveries/" + PERSON)
        self.assertIn("Fant ikke siden", browser.driver.page_source)
        self.assertIn("path=/deliveries/###########", self.daemon.log_text())

    def test_tls_1_2_without_an_aead_suite_is_refused(self):
        import socket
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(str(self.daemon.pki / "ca.pem"))
        party = self.daemon.pki / "parties" / "municipality-0301"
        context.load_cert_chain(str(party) + ".pem", str(party) + ".key")
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA")  # CBC only.
        host, port = self.daemon.web[len("https://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw, server_hostname="localhost")


if __name__ == "__main__":
    unittest.main()
