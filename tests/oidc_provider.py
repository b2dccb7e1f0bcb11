"""A real OpenID provider for the tests: the npm package oidc-provider, on 127.0.0.1, driven like a browser would.

``tests/oidc/`` holds its package.json, lock file and a tiny start script; the
first use installs it with ``npm ci`` into ``tests/oidc/node_modules`` (ignored
by git), as ``make test`` does, so a clean clone works.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_SECRET = "test-only-client-secret-0123456789abcdef"
CALLBACK = "http://localhost/auth/oidc/callback"
ACCOUNTS = {
    "chen": {"email": "chen.jing@bank.example", "email_verified": True, "name": "Chen Jing"},
    "unverified": {"email": "lin.na@bank.example", "email_verified": False, "name": "Lin Na"},
    "stranger": {"email": "stranger@bank.example", "email_verified": True, "name": "Not On Staff"},
}


def _client(client_id: str) -> dict:
    return {
        "client_id": client_id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


def install() -> None:
    """Install oidc-provider once (npm ci from the lock file)."""
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the single sign-on tests (install Node.js)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True, timeout=600)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_issuer():
    """Start oidc-provider with two clients (``pointsapp`` and ``intruder``) and three accounts; yield its issuer."""
    install()
    port = _free_port()
    config = {"clients": [_client("pointsapp"), _client("intruder")], "accounts": ACCOUNTS}
    process = subprocess.Popen(
        [shutil.which("node") or "node", str(HERE / "provider.mjs"), str(port), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("oidc-provider did not start")
        yield issuer
    finally:
        process.stdin.close()  # the script exits when its input closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def through_provider(authorize_url: str, login: str) -> str:
    """Sign in at the provider's own login and consent pages; return where it sends the browser back to."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if urlsplit(target).netloc == "localhost":
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
            continue
        page = response.text
        action = re.search(r'<form[^>]*action="([^"]+)"', page)
        prompt = re.search(r'name="prompt" value="(\w+)"', page)
        assert response.ok and action and prompt, page[:500]
        data = {"prompt": prompt.group(1)}
        if prompt.group(1) == "login":
            data |= {"login": login, "password": "any"}
        response = browser.post(
            urljoin(response.url, html.unescape(action.group(1))), data=data, allow_redirects=False, timeout=10
        )
    raise AssertionError("the provider never sent the browser back")
