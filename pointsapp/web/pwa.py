"""The installable app: the web app manifest and the service worker, both at the site root."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from stat import S_ISREG

from flask import Blueprint, current_app, render_template, request
from flask_babel import force_locale, get_locale
from werkzeug.security import safe_join

from pointsapp.config import MANIFEST, STATIC
from pointsapp.session_cookies import sessionless

bp = Blueprint("pwa", __name__)

SERVICE_WORKER = STATIC / "sw.js"
# Files whose content is part of the service worker's version: change one and
# browsers install a new worker with a fresh precache.
SHELL_FILES = ("css/app.css", "js/app.js", "js/push.js", "js/offline.js", "vendor/htmx/htmx.min.js")


def localized_manifest(lang: str) -> dict:
    """The manifest with the names of ``lang`` (from its ``translations`` member) on top."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    translation = manifest.get("translations", {}).get(lang)
    if translation:
        manifest.update(translation)
    return manifest


@functools.lru_cache(maxsize=4)
def _service_worker(mtimes: tuple, languages: tuple[str, ...]) -> str:
    digest = hashlib.sha256(SERVICE_WORKER.read_bytes())
    for name in SHELL_FILES:
        path = STATIC / name
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(repr(languages).encode())
    source = SERVICE_WORKER.read_text(encoding="utf-8").replace("__VERSION__", digest.hexdigest()[:12])
    return source.replace("__LANGUAGES__", json.dumps(list(languages)))


@bp.get("/manifest.json")
@sessionless
def manifest():
    """Serve the web app manifest, in the asked (or my) language."""
    lang = request.args.get("lang") or str(get_locale() or "en")
    body = json.dumps(localized_manifest(lang.split("-")[0]), ensure_ascii=False, indent=2)
    response = current_app.response_class(body, mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")
    return response


@bp.get("/sw.js")
@sessionless
def service_worker():
    """Serve the service worker with scope / and no caching (updates must reach browsers)."""
    files = [SERVICE_WORKER, *(STATIC / name for name in SHELL_FILES)]
    languages = tuple(current_app.config["LANGUAGES"])
    source = _service_worker(tuple(p.stat().st_mtime_ns for p in files if p.exists()), languages)
    response = current_app.response_class(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return response


@bp.get("/offline")
@sessionless
def offline():
    """The page the service worker shows offline, in ``?lang=`` or the reader's language.

    The worker precaches it in every language, so it holds no user's data.
    """
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang", "").split("-")[0]
    if lang not in languages:
        lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]
    with force_locale(lang):
        response = current_app.make_response(render_template("offline.html", lang=lang))
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


# --- static files: content-hashed URLs, cached for a year --------------------------
#
# ``url_for("static", filename=…)`` adds ``?v=<hash of the content>``; a request
# whose ``v`` names the file's current content may be cached for a year, any
# other is revalidated (ETag). The service worker matches static files with
# ``ignoreSearch``, so its precache serves the versioned URLs too.

STATIC_MAX_AGE = 365 * 24 * 3600


@functools.lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def static_version(filename: str) -> str | None:
    """The hash of a static file's content, or None for no such file."""
    path = safe_join(str(STATIC), filename or "")
    try:
        stat = os.stat(path) if path else None
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns) if stat and S_ISREG(stat.st_mode) else None


@bp.app_url_defaults
def _versioned_static(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and (version := static_version(values.get("filename", ""))):
        values["v"] = version


def _static_max_age(filename: str | None) -> int | None:
    """A year for a URL that names the file's current content; otherwise revalidate."""
    version = request.args.get("v")
    return STATIC_MAX_AGE if version and version == static_version(filename or "") else None


@bp.record_once
def _cache_static(state) -> None:
    state.app.get_send_file_max_age = _static_max_age
