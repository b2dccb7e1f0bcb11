"""Every user-facing string goes through the catalog, and the Chinese catalog translates all of it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "pointsapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
METHODS = [("pointsapp/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "lazy_gettext": None,
    "_l": None,
    "lazy_pgettext": ((1, "c"), 2),
}
TRANSLATORS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "_l", "lazy_pgettext"}
SENTENCE = re.compile(r"[A-Za-z]{2,}.*\s.*[A-Za-z]{2,}|^[A-Z][a-z]+\.$")  # words a person reads, not a code


def _extracted():
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT, METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}}
    ):
        yield context, message if isinstance(message, str) else message[0]


def test_the_chinese_catalog_translates_every_message_and_has_no_fuzzy_entries():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for context, msgid in _extracted():
        entry = catalog.get(msgid, context=context)
        texts = entry.string if entry is not None and isinstance(entry.string, tuple) else (entry.string if entry else "",)
        if entry is None or entry.fuzzy or not all(texts):
            missing.append((context, msgid))
    assert sorted(set(missing)) == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def _errors_and_checks(tree) -> set[str]:
    """Names of exception classes and of policy checks whose message argument people read."""
    names = {"require", "ValidationError", "flash"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            getattr(b, "id", "").endswith(("Error", "Failed", "Found", "Allowed", "Conflict")) for b in node.bases
        ):
            names.add(node.name)
    return names


def _literal(node) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(SENTENCE.search(node.value))) or isinstance(
        node, ast.JoinedStr
    )


def test_no_user_facing_message_in_the_code_skips_the_catalog():
    from pointsapp.errors import DomainError

    known = {
        "DomainError",
        "ValidationFailed",
        "NotFound",
        "NotAllowed",
        "Conflict",
        "Duplicate",
        "InvalidTransition",
        "IdempotencyConflict",
        "InsufficientPoints",
        "OutOfStock",
        "LimitReached",
    } | {c.__name__ for c in DomainError.__subclasses__()}
    found = []
    for path in sorted((ROOT / "pointsapp").rglob("*.py")):
        tree = ast.parse(path.read_text())
        readers = known | _errors_and_checks(tree)
        for node in ast.walk(tree):
            suspects = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in TRANSLATORS:
                    continue
                if name in readers and name != "require" and node.args:
                    suspects.append(node.args[0])
                if name == "require" and len(node.args) > 1:
                    suspects.append(node.args[1])
                for keyword in node.keywords:
                    if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                        suspects += [e for v in keyword.value.values if isinstance(v, ast.List) for e in v.elts]
            elif (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Subscript) and getattr(t.value, "id", "") in ("fields", "errors") for t in node.targets)
                and isinstance(node.value, ast.List)
            ):
                suspects += node.value.elts
            found += [f"{path.relative_to(ROOT)}:{s.lineno}" for s in suspects if _literal(s)]
    assert found == [], found


def test_templates_show_no_text_outside_the_translation_functions():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}|\{%\s*block body_class\s*%\}.*?\{%\s*endblock\s*%\}", " ", path.read_text(), flags=re.S)
        text = re.sub(r"<(script|style|code|pre)\b.*?</\1>", " ", text, flags=re.S)
        labels = re.findall(r'\b(?:placeholder|aria-label|title|alt|data-confirm|hx-confirm|data-msg-[\w-]+)="([^"]*)"', text)
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", " ".join([text, *labels]), flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        words = [
            w
            for w in re.findall(r"[A-Za-z][\w'./:-]+", text)
            if w not in ("English", "pointsapp") and not re.search(r"[._/:\d]", w)
        ]
        found += [f"{path.relative_to(ROOT)}: {w}" for w in words]
    assert found == [], found
