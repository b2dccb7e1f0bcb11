"""Names in two languages: rules, badges, rewards, teams and challenges carry translations beside their base text.

A translatable row has a ``translations`` JSON object such as
``{"zh": {"name": "贷款签约", "description": "…"}}`` (a challenge's: ``{"zh": {"title": "…"}}``).
Readers see the text in
their language (the user's own setting, else ``Accept-Language``, else the
base language), falling back to the base column when a translation is missing.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Challenge, Redemption, Reward, Rule

TRANSLATED_FIELDS = {"name": 120, "description": 2000}  # field → longest text accepted
CHALLENGE_FIELDS = {"title": 160}  # a challenge has a title and no description


def reader_language() -> str:
    """The language the current reader reads: the request's (or a forced) locale, else the base language."""
    if not has_app_context():
        return "en"
    locale = get_locale()
    return locale.language if locale is not None else current_app.config["BABEL_DEFAULT_LOCALE"]


def reads_base_language() -> bool:
    """Whether the reader reads the base language (then base texts need no lookup)."""
    base = current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "en"
    return reader_language() == base


def other_languages() -> list[str]:
    """Languages a translation may be given in (every configured language but the base one)."""
    if not has_app_context():
        return ["zh"]
    return [code for code in current_app.config["LANGUAGES"] if code != current_app.config["BABEL_DEFAULT_LOCALE"]]


def localized(obj, field: str = "name", language: str | None = None) -> str:
    """``obj.<field>`` in the reader's language, falling back to the base text."""
    base = getattr(obj, field, None)
    language = language or reader_language()
    translations = getattr(obj, "translations", None) or {}
    text = (translations.get(language) or {}).get(field)
    return text if text else (base if base is not None else "")


def translation(obj, language: str, field: str) -> str:
    """The stored translation of one field (empty when there is none), for edit forms."""
    return ((getattr(obj, "translations", None) or {}).get(language) or {}).get(field) or ""


def clean_translations(value, fields: dict[str, int] = TRANSLATED_FIELDS) -> dict:
    """Check a ``translations`` object from a form or the API; return it trimmed, without empty texts.

    ``fields`` are the translatable fields with their longest length (a challenge's differ).
    """
    if value is None:
        return {}
    problems: list[str] = []
    cleaned: dict[str, dict[str, str]] = {}
    if not isinstance(value, dict):
        raise ValidationFailed(
            _("Some fields are not valid."), fields={"translations": [_("Give an object keyed by language, e.g. zh.")]}
        )
    languages = other_languages()
    for language, texts in value.items():
        if language not in languages:
            problems.append(
                _("Unknown language %(code)s; use one of: %(codes)s.", code=str(language)[:8], codes=", ".join(languages))
            )
            continue
        if not isinstance(texts, dict):
            problems.append(_("The %(code)s translation must be an object of texts by field.", code=language))
            continue
        entry: dict[str, str] = {}
        for field, text in texts.items():
            if field not in fields:
                problems.append(_("Only these fields can be translated: %(fields)s.", fields=", ".join(fields)))
            elif text is not None and not isinstance(text, str):
                problems.append(_("Translations are text."))
            elif text and text.strip():
                if len(text.strip()) > fields[field]:
                    problems.append(_("At most %(count)d characters.", count=fields[field]))
                entry[field] = text.strip()
        if entry:
            cleaned[language] = entry
    if problems:
        raise ValidationFailed(_("Some fields are not valid."), fields={"translations": list(dict.fromkeys(problems))})
    return cleaned


def form_translations(form, fields: dict[str, int] = TRANSLATED_FIELDS) -> dict:
    """The ``translations`` object from an admin form's side-by-side inputs (``name_zh``, ``description_zh``)."""
    return {
        language: {field: form.get(f"{field}_{language}", "") for field in fields if f"{field}_{language}" in form}
        for language in other_languages()
    }


# --- wallet entries ---------------------------------------------------------------
#
# An entry's reason is stored once, in the base language, from the rule or
# reward it came from ("Loan signed ×2 (share 1 of 2 of 60)"). Readers see it
# rebuilt from the rule's or reward's name in their language.

_SHARE = re.compile(r" \(share (\d+) of (\d+) of (-?\d+)\)$")
_EVENT = re.compile(r" \(event (.+)\)$")
_PERIOD = re.compile(r" \((\d{4}(?:-[WQ]?\d{1,2})?)\)$")
_CHALLENGE_KEY = re.compile(r"^challenge:(\d+)(?::|$)")


def _rest(rest: str) -> str:
    """Translate what follows a rule's name: a share, an event id, a period."""
    if match := _SHARE.search(rest):
        share = _(" (share %(n)s of %(count)s of %(total)s)", n=match[1], count=match[2], total=match[3])
        return rest[: match.start()] + share
    if match := _EVENT.search(rest):
        return rest[: match.start()] + _(" (event %(id)s)", id=match[1])
    return rest


def entry_reasons(entries) -> dict[int, str]:
    """Each entry's reason in the reader's language, by entry id (one query per kind of source)."""
    rule_ids = {e.rule_id for e in entries if e.rule_id}
    hold_ids = {e.hold_id for e in entries if e.hold_id}
    rules = {r.id: r for r in db.session.scalars(sa.select(Rule).where(Rule.id.in_(rule_ids)))} if rule_ids else {}
    rewards = (
        dict(
            db.session.execute(
                sa.select(Redemption.hold_id, Reward)
                .join(Reward, Reward.id == Redemption.reward_id)
                .where(Redemption.hold_id.in_(hold_ids))
            ).all()
        )
        if hold_ids
        else {}
    )
    titles = _challenge_titles(entries)
    return {e.id: _entry_reason(e.reason, rules.get(e.rule_id), rewards.get(e.hold_id), titles) for e in entries}


def _challenge_titles(entries) -> dict[str, str]:
    """Base title → title in the reader's language, for the challenges named by these entries' reasons.

    A payout's ``dedupe_key`` (``challenge:<id>``) names its challenge; a reversal's
    does not, so challenges are also found by their base title.
    """
    if reads_base_language():
        return {}
    ids = {int(m[1]) for e in entries if e.dedupe_key and (m := _CHALLENGE_KEY.match(e.dedupe_key))}
    titles = {_challenge_title_in(e.reason) for e in entries} - {None}
    if not ids and not titles:
        return {}
    found = db.session.scalars(sa.select(Challenge).where(sa.or_(Challenge.id.in_(ids), Challenge.title.in_(titles))))
    return {c.title: localized(c, "title") for c in found}


def _challenge_title_in(reason: str) -> str | None:
    """The base title inside a challenge payout's (or restatement's) reason, reversed or not."""
    if reason.startswith("Reversed: ") and " — " in reason:
        reason = reason.removeprefix("Reversed: ").rsplit(" — ", 1)[0]
    parts = _challenge_parts(reason)
    return parts[0] if parts else None


def _challenge_parts(reason: str) -> tuple[str, str | None] | None:
    """(title, why) of a payout's reason "Team challenge: T" (why None) or a restatement's
    "Restated: team challenge T — why" (see corrections.restate_challenge); None for any other reason."""
    if reason.startswith("Team challenge: "):
        return reason.removeprefix("Team challenge: "), None
    if reason.startswith("Restated: team challenge ") and " — " in reason:
        title, why = reason.removeprefix("Restated: team challenge ").split(" — ", 1)
        return title, why
    return None


def reason_text(reason: str) -> str:
    """A notification's reason (entry reasons joined by "; ") in the reader's language, by the rules' names."""
    if not reason or reads_base_language():
        return reason
    ellipsis = "…" if reason.endswith("…") else ""
    rules = _translated_rules()
    parts = []
    for part in reason.removesuffix("…").split("; "):
        rule = next((r for r in rules if part.startswith(r.name)), None)
        parts.append(_entry_reason(part, rule, None))
    return "; ".join(parts) + ellipsis


def _translated_rules() -> list:
    """Rules with translations, longest name first (a name may begin another), newest version of a name first."""
    cached = g.get("_translated_rules") if has_request_context() else None
    if cached is None:
        rows = db.session.scalars(sa.select(Rule).order_by(Rule.id.desc()))
        cached = sorted((r for r in rows if r.translations and r.name), key=lambda r: -len(r.name))
        if has_request_context():
            g._translated_rules = cached
    return cached


def _entry_reason(reason: str, rule, reward, titles: dict[str, str] | None = None) -> str:
    titles = titles or {}
    if reason.startswith("Reversed: ") and " — " in reason:
        what, why = reason.removeprefix("Reversed: ").rsplit(" — ", 1)
        return _("Reversed: %(what)s — %(why)s", what=_entry_reason(what, rule, reward, titles), why=system_reason(why))
    if reason in FIXED_REASONS:
        return str(FIXED_REASONS[reason])
    if rule is not None and rule.name and reason.startswith(rule.name):
        return localized(rule) + _rest(reason[len(rule.name) :])
    if reward is not None:
        return _("Redeemed: %(name)s", name=localized(reward))
    if (parts := _challenge_parts(reason)) is not None:
        title, why = parts
        title = titles.get(title, title)
        if why is None:
            return _("Team challenge: %(title)s", title=title)
        return _("Restated: team challenge %(title)s — %(why)s", title=title, why=system_reason(why))
    return reason


# --- reasons the system writes ---------------------------------------------------
#
# Corrections store why they happened in the base language ("Clawback by bad_loan
# rv-cb2"), in ledger entries and audit records alike. Readers see these phrases
# through the catalog; event types and ids stay as posted (they are codes), and
# what a person typed (a manual reversal's reason) is shown as typed.

FIXED_REASONS = {  # stored text → its catalog entry
    "Unspent points forfeited on leaving": _l("Unspent points forfeited on leaving"),
    "Cancelled: the employee has left.": _l("Cancelled: the employee has left."),
}
_CLAWBACK = re.compile(r"^Clawback by (\S+ .+)$", re.S)
_IN_PERIOD = re.compile(r"^(\S+ .+) in the period$", re.S)
_BREACH = re.compile(r"^compliance breach (.+) in (\S+)$", re.S)
_EVENT_REVERSED = re.compile(r"^event (.+) \((\S+)\) reversed: (.*)$", re.S)
_EVENT_REVERSED_SHORT = re.compile(r"^Event reversed: (.*)$", re.S)
_NOT_DECIDED = re.compile(r"^Not decided within (\d+) days\.$")  # an expired redemption's note


def system_reason(why: str) -> str:
    """A correction's reason in the reader's language when the system wrote it; a person's words stay as typed."""
    if not why or reads_base_language():
        return why
    if match := _CLAWBACK.match(why):
        return _("Clawback by %(event)s", event=match[1])
    if match := _IN_PERIOD.match(why):
        return _("%(event)s in the period", event=match[1])
    if match := _BREACH.match(why):
        return _("compliance breach %(event)s in %(period)s", event=match[1], period=match[2])
    if match := _EVENT_REVERSED.match(why):
        return _("event %(event)s (%(type)s) reversed: %(why)s", event=match[1], type=match[2], why=system_reason(match[3]))
    if match := _EVENT_REVERSED_SHORT.match(why):
        return _("Event reversed: %(why)s", why=system_reason(match[1]))
    if match := _NOT_DECIDED.match(why):
        return _("Not decided within %(days)d days.", days=int(match[1]))
    if why in FIXED_REASONS:
        return str(FIXED_REASONS[why])
    return why
