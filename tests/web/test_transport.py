"""Transport: compressed pages and JSON, and static files under content-hashed URLs cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import json
import re

import brotli

from pointsapp import STATIC
from tests import factories
from tests.conftest import login


def test_pages_are_gzipped_for_clients_that_accept_it(org, client):
    factories.give_points(org.alice, 1234)
    login(client, org.alice)
    response = client.get("/wallet", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    html = gzip.decompress(response.get_data()).decode()
    assert "1,234" in html and "</html>" in html
    plain = client.get("/wallet")
    assert "Content-Encoding" not in plain.headers and "1,234" in plain.get_data(as_text=True)


def test_json_is_brotli_compressed_when_asked(org, api_as):
    for n in range(12):
        factories.give_points(org.alice, 10 + n, reason=f"Quarterly review bonus {n}")
    response = api_as(org.alice).get("/me/ledger", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    items = json.loads(brotli.decompress(response.get_data()))["items"]
    assert [item["points"] for item in items] == list(range(21, 9, -1))
    tiny = api_as(org.alice).get("/me/wallet", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in tiny.headers  # under 500 bytes compression costs more than it saves
    assert tiny.json["balance"] == sum(range(10, 22))


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_static_urls_carry_a_hash_of_the_content_and_are_cached_for_a_year(org, client):
    login(client, org.alice)
    urls = _static_urls(client.get("/wallet").get_data(as_text=True))
    assert any(u.startswith("/static/css/app.css?v=") for u in urls)
    for url in urls:
        path, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", url).groups()
        assert version == hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
        response = client.get(url)
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_a_static_url_without_the_current_hash_is_revalidated(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert "max-age=31536000" not in response.headers.get("Cache-Control", "")
        assert response.headers.get("ETag")


def test_a_path_outside_the_static_folder_is_neither_hashed_nor_served(client):
    assert client.get("/static/../pointsapp/config.py?v=x").status_code == 404
    assert client.get("/static/%2e%2e/pyproject.toml?v=x").status_code == 404


def test_the_service_worker_precaches_the_shell_and_serves_versioned_urls_from_it(client):
    source = client.get("/sw.js").get_data(as_text=True)
    shell = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    for path in re.findall(r'"(/static/[^"]+)"', shell):
        assert client.get(path).status_code == 200  # the precache installs
    # Pages ask for /static/…?v=<hash>: the worker must match them to the precached plain URLs.
    assert re.search(r'pathname\.startsWith\("/static/"\).*?caches\.match\(request, \{ ignoreSearch: true \}\)', source, re.S)


def test_revalidating_a_static_file_answers_304_and_closes_the_file(client, recwarn):
    import gc

    first = client.get("/static/js/app.js", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    first.close()
    again = client.get("/static/js/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    again.close()
    gc.collect()
    assert not [w for w in recwarn if issubclass(w.category, ResourceWarning)]
