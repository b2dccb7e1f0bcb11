"""Lighthouse (mobile) on the login and wallet pages, in Chinese and English: `make lighthouse`.

Serves a fresh demo database from a temporary instance on 127.0.0.1 (gunicorn,
under `timeout`, so it stops by itself even if this script is killed), signs
in as a demo advisor and runs the Lighthouse installed in tests/lighthouse
(`npm ci`, pinned in package-lock.json) with Debian's chromium on each page.
Prints the four category scores per page and language; exits 1 when any is
below the bar (95).

Settings: LIGHTHOUSE_PORT (8810), CHROME_PATH (/usr/bin/chromium),
LIGHTHOUSE_OUT (a temporary directory for the JSON reports), LIGHTHOUSE_MIN (95).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tests" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
FLASK = ROOT / ".venv" / "bin" / "flask"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PORT = int(os.environ.get("LIGHTHOUSE_PORT", "8810"))
BASE = f"http://127.0.0.1:{PORT}"
MINIMUM = int(os.environ.get("LIGHTHOUSE_MIN", "95"))
SERVER_SECONDS = 900  # the server's own deadline
ADVISOR = ("chen.jing@demo.bank", "demo-points-2026")
# Sessions are bound to the browser's user agent: sign in with the one Lighthouse sends.
AGENT = (
    "Mozilla/5.0 (Linux; Android 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36 "
    "pointsapp-lighthouse"
)
ACCEPT_LANGUAGE = {"zh": "zh-CN,zh;q=0.9", "en": "en"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def main() -> int:
    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: run `make lighthouse` (npm ci in tests/lighthouse).", file=sys.stderr)
        return 2
    out = Path(os.environ.get("LIGHTHOUSE_OUT") or tempfile.mkdtemp(prefix="pointsapp-lighthouse-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pointsapp-lighthouse-instance-") as instance:
        env = os.environ | {"POINTSAPP_INSTANCE": instance, "SECRET_KEY": "lighthouse-run", "FLASK_APP": "pointsapp"}
        env.pop("DATABASE_URL", None)  # always the instance's own SQLite database
        subprocess.run([FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([FLASK, "seed-demo"], env=env, cwd=ROOT, check=True, capture_output=True)
        server = start_server(env, out)
        try:
            wait_until_up()
            rows = [audit(page, language, out) for language in ("zh", "en") for page in ("login", "wallet")]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{'page':<8} {'lang':<5}" + "".join(f"{c:>16}" for c in CATEGORIES))
    for page, language, scores in rows:
        print(f"{page:<8} {language:<5}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))
    low = [(page, language, c, s) for page, language, scores in rows for c, s in scores.items() if s < MINIMUM]
    print(f"reports: {out}")
    if low:
        print(f"below {MINIMUM}: " + ", ".join(f"{p} ({lang}) {c} {s}" for p, lang, c, s in low), file=sys.stderr)
        return 1
    return 0


def start_server(env: dict, out: Path) -> subprocess.Popen:
    """gunicorn on 127.0.0.1 under `timeout`, so it ends by itself after SERVER_SECONDS."""
    log = (out / "server.log").open("w")
    command = ["timeout", str(SERVER_SECONDS), GUNICORN, "--bind", f"127.0.0.1:{PORT}", "--workers", "2"]
    command += ["--no-control-socket", "pointsapp:create_app()"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up() -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/login", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer on {BASE}")


def signed_in_cookie(language: str) -> str:
    """The advisor's session cookie, with the interface switched to ``language`` (saved on the account)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]

    def post(path: str, page: str, fields: dict) -> str:
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
        body = urllib.parse.urlencode(fields | {"csrf_token": token}).encode()
        return opener.open(f"{BASE}{path}", data=body).read().decode()

    login_page = opener.open(f"{BASE}/login").read().decode()
    wallet = post("/login", login_page, {"email": ADVISOR[0], "password": ADVISOR[1]})
    post("/language", wallet, {"locale": language, "next": "/wallet"})
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check_language(page: str, language: str, headers: dict) -> None:
    """The page Lighthouse will load is in ``language`` (the audit would mean little otherwise)."""
    request = urllib.request.Request(f"{BASE}/{page}", headers=headers | {"User-Agent": AGENT})
    html = urllib.request.urlopen(request).read().decode()
    expected = '<html lang="zh-Hans">' if language == "zh" else '<html lang="en">'
    if expected not in html:
        raise SystemExit(f"{page} ({language}) is not served in that language")


def audit(page: str, language: str, out: Path) -> tuple[str, str, dict[str, int]]:
    """Run Lighthouse (mobile) on one page in one language; return its category scores (0–100)."""
    headers = {"Accept-Language": ACCEPT_LANGUAGE[language]}
    if page == "wallet":
        headers["Cookie"] = signed_in_cookie(language)
    check_language(page, language, headers)
    report = out / f"{page}-{language}.json"
    command = [
        LIGHTHOUSE,
        f"{BASE}/{page}",
        "--quiet",
        "--form-factor=mobile",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--emulated-user-agent={AGENT}",
        f"--extra-headers={json.dumps(headers)}",
        "--output=json",
        f"--output-path={report}",
    ]
    env = os.environ | {"CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(command, env=env, check=True, timeout=300)
    result = json.loads(report.read_text(encoding="utf-8"))
    if not result["finalDisplayedUrl"].endswith(f"/{page}"):
        raise SystemExit(f"{page} ({language}) ended on {result['finalDisplayedUrl']}")
    return page, language, {c: round(result["categories"][c]["score"] * 100) for c in CATEGORIES}


if __name__ == "__main__":
    sys.exit(main())
