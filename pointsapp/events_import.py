"""CSV import of events, for systems that cannot call the API.

Columns (header row required, any order): ``external_id, type, user_id,
occurred_at`` and optionally ``quantity`` and ``participants`` (user ids
separated by ``;``). A user may be given by id or by email. ``occurred_at`` is ISO 8601; without an offset it is read
in the organisation's time zone; like the API, it must not be before 2000-01-01 nor more than
a day ahead. Rows are posted with source ``admin`` — the
same identity space as an admin's ``POST /api/v1/events`` and the
``import-events`` command — so importing a file twice changes nothing.

The page processes an upload in chunks (``process_chunk``), each in its own
transaction, so it can show a progress bar; every row gets a report line with
its row number (the header is row 1), the column at fault and the reason.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import earning, policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import User
from pointsapp.models.earning import EventImport
from pointsapp.periods import utcnow

SOURCE = "admin"
REQUIRED_COLUMNS = ("external_id", "type", "user_id", "occurred_at")
OPTIONAL_COLUMNS = ("quantity", "participants")
CHUNK_SIZE = 250
MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024  # the web layer lets such an upload through (pointsapp.web.CSV_UPLOAD_MAX_BYTES)


def read_rows(text: str) -> list[tuple[int, dict]]:
    """Parse CSV text into (row number, raw event); ValidationFailed for a bad header."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        expected = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        raise ValidationFailed(
            _("Row 1: missing column(s) %(value)s. Expected: %(expected)s.", value=", ".join(missing), expected=expected),
            fields={"file": [_("Missing columns.")]},
        )
    rows = []
    for line, raw in enumerate(reader, start=2):
        cells = {(k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
        if not any(cells.values()):
            continue  # blank line
        event = {k: cells.get(k, "") for k in REQUIRED_COLUMNS}
        if cells.get("quantity"):
            event["quantity"] = cells["quantity"]
        if cells.get("participants"):
            event["participants"] = [p for p in cells["participants"].replace(",", ";").replace(" ", ";").split(";") if p]
        for column in REQUIRED_COLUMNS:
            if event[column] == "":
                event.pop(column)
        rows.append((line, event))
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            _("The file has %(value)s rows; split it into files of at most %(MAX_ROWS)s.", value=len(rows), MAX_ROWS=MAX_ROWS)
        )
    return rows


def report_lines(rows: list[tuple[int, dict]], results: list[earning.EventResult]) -> list[dict]:
    """One report line per row: row, external_id, status, points, column and message."""
    lines = []
    for (line, _row), result in zip(rows, results, strict=True):
        entry = {
            "row": line,
            "external_id": result.external_id,
            "status": result.status,
            "event_id": result.event_id,
            "points": sum(a["points"] for a in result.awards),
        }
        if result.error is not None:
            fields = result.error.fields or {}
            column = next((f for f in fields if f in REQUIRED_COLUMNS + OPTIONAL_COLUMNS), None)
            entry["column"] = column
            entry["message"] = " ".join(map(str, fields[column])) if column else result.error.message
        lines.append(entry)
    return lines


def import_rows(rows: list[tuple[int, dict]], *, actor_id: int | None) -> list[dict]:
    """Post parsed rows as events (source ``admin``) and return the report lines."""
    rows = with_user_ids(rows)
    results = earning.ingest_events([event for _, event in rows], source=SOURCE, actor_id=actor_id, csv=True)
    lines = report_lines(rows, results)
    for (_line, event), line in zip(rows, lines, strict=True):
        unknown = [v for v in [event.get("user_id", ""), *event.get("participants", [])] if "@" in v]
        if line["status"] == "invalid" and line.get("column") in ("user_id", "participants") and unknown:
            line["message"] = f"No user has the email {unknown[0]}."
    return lines


def with_user_ids(rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Rows with emails in ``user_id``/``participants`` replaced by user ids (HR knows emails, not ids); one query."""
    emails = {v.lower() for _, e in rows for v in [e.get("user_id", ""), *e.get("participants", [])] if "@" in v}
    if not emails:
        return rows
    ids = dict(
        db.session.execute(sa.select(sa.func.lower(User.email), User.id).where(sa.func.lower(User.email).in_(emails))).all()
    )

    def one(value: str) -> str:
        return str(ids.get(value.lower(), value)) if "@" in value else value

    resolved = []
    for line, event in rows:
        event = dict(event)
        if "user_id" in event:
            event["user_id"] = one(event["user_id"])
        if "participants" in event:
            event["participants"] = [one(p) for p in event["participants"]]
        resolved.append((line, event))
    return resolved


def start_import(actor: User, filename: str, data: bytes) -> EventImport:
    """Store an uploaded CSV for chunked processing; bad files are refused at once."""
    policy.require(policy.can_import_events(actor), _("Only administrators can import events."))
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            _("The file is larger than 5 MB; split it into smaller files."), fields={"file": [_("Too large.")]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("The file is not UTF-8 text; save it as 'CSV UTF-8'."), fields={"file": [_("Not UTF-8.")]}
        ) from None
    rows = read_rows(text)
    if not rows:
        raise ValidationFailed(_("The file has a header but no rows."), fields={"file": [_("No rows.")]})
    job = EventImport(
        filename=(filename or "events.csv")[:255],
        content=text,
        total_rows=len(rows),
        processed_rows=0,
        status="pending",
        results=[],
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def get_import(actor: User, import_id: int) -> EventImport:
    policy.require(policy.can_import_events(actor), _("Only administrators can import events."))
    job = db.session.get(EventImport, import_id)
    if job is None:
        raise NotFound(_("There is no such import."))
    return job


def process_chunk(actor: User, import_id: int, size: int = CHUNK_SIZE) -> EventImport:
    """Import the next chunk of an upload; a concurrent poll of the same chunk does nothing."""
    job = get_import(actor, import_id)
    if job.status == "done":
        return job
    done = job.processed_rows
    rows = read_rows(job.content)[done : done + size]
    finished = done + len(rows) >= job.total_rows
    claimed = db.session.execute(
        sa.update(EventImport)
        .where(EventImport.id == job.id, EventImport.processed_rows == done)
        .values(
            processed_rows=done + len(rows), status="done" if finished else "running", finished_at=utcnow() if finished else None
        )
    ).rowcount
    if claimed != 1:
        db.session.refresh(job)
        return job
    lines = import_rows(rows, actor_id=actor.id)
    db.session.refresh(job)
    job.results = [*job.results, *lines]
    db.session.flush()
    return job


def summary(lines: list[dict]) -> dict[str, int]:
    """Counts per status, and the points awarded."""
    counts = {s: 0 for s in ("created", "duplicate", "conflict", "invalid")}
    for line in lines:
        counts[line["status"]] += 1
    counts["points"] = sum(line.get("points", 0) for line in lines)
    return counts
