"""What the browser tests run against: a development PKI, the real infoflytd (SQLite, its web
port on), the real infoflyt CLI for gRPC calls, and Debian's chromium, headless, driven by
chromium-driver through selenium. Each browser has its own HOME, so its own NSS database
holding one party's client certificate (or none), which a managed policy selects without a
prompt.

Needs root, as the rest of the suite: the policy lives in /etc/chromium/policies/managed.
"""

import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SOURCE = pathlib.Path(os.environ.get("INFOFLYT_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
BUILD = pathlib.Path(os.environ.get("INFOFLYT_BUILD_DIR", SOURCE / "build"))
POLICY_DIR = pathlib.Path("/etc/chromium/policies/managed")
POLICY_FILE = POLICY_DIR / "infoflyt-browser-tests.json"
# Test output (screenshots, the printed report) for people to look at.
OUTPUT = pathlib.Path(os.environ.get("INFOFLYT_BROWSER_OUTPUT", BUILD / "tests" / "browser-output"))


def run(*args, env=None, check=True, input=None):
    return subprocess.run(args, env=env, check=check, capture_output=True, text=True, input=input)


def install_certificate_policy():
    """Chromium picks the one certificate a profile holds for the daemon without asking: only
    certificates of the test PKI's CA, and only until remove_certificate_policy()."""
    POLICY_DIR.mkdir(parents=True, exist_ok=True)
    rule = json.dumps({"pattern": "https://127.0.0.1:*",
                       "filter": {"ISSUER": {"O": "infoflyt development"}}})
    POLICY_FILE.write_text(json.dumps({"AutoSelectCertificateForUrls": [rule]}))


def remove_certificate_policy():
    POLICY_FILE.unlink(missing_ok=True)


class Daemon:
    """infoflytd on a fresh SQLite store and PKI in `root`, with its web port on."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.pki = root / "pki"
        run(str(SOURCE / "certs/make-dev-pki.sh"), "-o", str(self.pki))
        deploy = SOURCE / "deploy"
        config = f"""
[server]
listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
instance = "browser-test"
[web]
listen = "127.0.0.1:0"
[tls]
cert = "{self.pki}/server.pem"
key = "{self.pki}/server.key"
client_ca = "{self.pki}/ca.pem"
crl_directory = "{self.pki}/crl"
refresh_interval = "1s"
[store]
sqlite_path = "{root}/infoflyt.db"
data_key_file = "{root}/data.key"
[data]
municipalities = "{deploy}/data/municipalities.csv"
police_districts = "{deploy}/data/police-districts.csv"
parties = "{deploy}/parties.toml"
legal_bases = "{deploy}/legal-bases.toml"
[audit]
subject_key_file = "{root}/subject.key"
[log]
key_file = "{root}/log.key"
checkpoint_interval = "1s"
"""
        (root / "infoflytd.toml").write_text(config)
        ready = root / "ready.json"
        self.log = open(root / "infoflytd.log", "w")
        self.process = subprocess.Popen(
            [str(BUILD / "daemon/infoflytd"), "--config", str(root / "infoflytd.toml"),
             "--ready-file", str(ready)], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if ready.exists() and ready.stat().st_size > 0:
                break
            if self.process.poll() is not None:
                raise RuntimeError("infoflytd exited: " + (root / "infoflytd.log").read_text())
            time.sleep(0.05)
        addresses = json.loads(ready.read_text())
        self.grpc = addresses["grpc"]
        self.http = "http://" + addresses["http"]
        self.web = "https://" + addresses["web"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()

    def metric(self, name) -> float:
        """A sample of the daemon's /metrics, e.g. "infoflyt_log_records"."""
        import urllib.request
        text = urllib.request.urlopen(self.http + "/metrics", timeout=10).read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def log_text(self) -> str:
        return (self.root / "infoflytd.log").read_text()

    def cli(self, party, *args, national_id=None, check=True):
        """The infoflyt CLI as `party` ("municipality-0301"), over gRPC with its certificate."""
        env = dict(os.environ)
        env.update({
            "INFOFLYT_SERVER": self.grpc,
            "INFOFLYT_CA": str(self.pki / "ca.pem"),
            "INFOFLYT_CERT": str(self.pki / "parties" / f"{party}.pem"),
            "INFOFLYT_KEY": str(self.pki / "parties" / f"{party}.key"),
        })
        env.pop("INFOFLYT_NATIONAL_ID", None)
        if national_id:
            env["INFOFLYT_NATIONAL_ID"] = national_id
        result = run(str(BUILD / "client/infoflyt"), "-o", "json", *args, env=env, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"infoflyt {' '.join(args)}: {result.stderr}")
        return result


class Browser:
    """Headless chromium presenting `party`'s certificate (None: no certificate at all)."""

    def __init__(self, daemon: Daemon, party, root: pathlib.Path):
        self.home = pathlib.Path(tempfile.mkdtemp(prefix=f"home-{party or 'none'}-", dir=root))
        nssdb = self.home / ".pki" / "nssdb"
        nssdb.mkdir(parents=True)
        db = "sql:" + str(nssdb)
        run("certutil", "-N", "-d", db, "--empty-password")
        run("certutil", "-A", "-d", db, "-n", "infoflyt test CA", "-t", "C,,",
            "-i", str(daemon.pki / "ca.pem"))
        if party:
            p12 = self.home / f"{party}.p12"
            run("openssl", "pkcs12", "-export", "-in", str(daemon.pki / "parties" / f"{party}.pem"),
                "-inkey", str(daemon.pki / "parties" / f"{party}.key"), "-passout", "pass:",
                "-out", str(p12))
            run("pk12util", "-i", str(p12), "-d", db, "-W", "")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", f"--user-data-dir={self.home / 'profile'}",
                     "--no-first-run", "--disable-background-networking"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        env = dict(os.environ)
        env["HOME"] = str(self.home)
        service = Service("/usr/bin/chromedriver", env=env)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.base = daemon.web

    def get(self, path):
        self.driver.get(self.base + path)

    def screenshot(self, name):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        # The whole page, not just the window.
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        (OUTPUT / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))

    def responses(self):
        """The bodies of every response the browser received since the last call (what reached
        it), from Chrome's performance log."""
        bodies = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.responseReceived":
                continue
            request_id = message["params"]["requestId"]
            url = message["params"]["response"]["url"]
            try:
                body = self.driver.execute_cdp_cmd("Network.getResponseBody",
                                                   {"requestId": request_id})
            except Exception:  # An event stream still open, or a body already evicted.
                continue
            text = body["body"]
            if body.get("base64Encoded"):
                text = base64.b64decode(text).decode("utf-8", "replace")
            bodies.append((url, text))
        return bodies

    def axe(self):
        """axe-core's violations of WCAG 2.1 A and AA on the current page."""
        script = (SOURCE / "daemon/web/node_modules/axe-core/axe.min.js").read_text()
        # Injected through the DevTools protocol: the page's CSP rightly refuses inline script.
        self.driver.execute_cdp_cmd("Runtime.evaluate", {"expression": script})
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',"
            " 'wcag21aa']}}).then(r => done(r.violations)).catch(e => done([{id: 'axe-error',"
            " impact: 'critical', description: String(e), nodes: []}]));")
        return result

    def quit(self):
        self.driver.quit()
        shutil.rmtree(self.home, ignore_errors=True)
