"""Many rows at the driver's pace: a statement compiled once per dialect, its rows given as tuples.

Through ``session.execute(insert, [dict, ...])`` SQLAlchemy looks at every row's
every key, and with RETURNING on SQLite it writes the statement out again for
each page of rows; for an ingestion batch (a thousand events, their entries,
notifications, wallets and rollups) that cost more than SQLite's own work.
``Many`` compiles its statement once, converts only the values whose type needs
it (times, JSON), and hands the driver plain tuples. That serves drivers with
positional parameters (SQLite's). On PostgreSQL (psycopg, named parameters)
the rows of an insert go as one array per column (``Arrays``), in a
statement whose text does not grow with the rows: psycopg rewrites the
placeholders of every statement longer than 4 kB anew, each time it is sent,
and for a multi-row ``VALUES`` list of a thousand rows that cost more client
CPU than anything else in a batch. ``among`` does the same for ``IN`` lists.
``Lookup`` compiles a read made on every page view.

On SQLite the ids are given, not returned: every transaction that may write
holds the write lock from its first statement (``BEGIN IMMEDIATE``, see
``database``), so ``max(id) + 1`` onwards is free until it commits, and a row
given an id already taken is refused by the primary key, never stored twice.
"""

from __future__ import annotations

import itertools
import json
import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pointsapp.extensions import db


class Many:
    """``statement`` run once per row, for many rows at once; a row is a tuple of its parameters in ``names`` order.

    For an INSERT the names are columns (``ON CONFLICT`` clauses are kept); for
    any other statement they are its bound parameters' names.
    """

    def __init__(self, statement: sa.Executable, names: tuple[str, ...]):
        self.statement = statement
        self.names = names
        self._compiled: dict[str, tuple[str, tuple[int, ...], tuple, tuple]] = {}
        self._arrays: Arrays | None = None

    @classmethod
    def insert(cls, table: sa.Table, names: tuple[str, ...]) -> Many:
        """Rows inserted into ``table``; on PostgreSQL they go as one array per column (``Arrays``)."""
        many = cls(table.insert(), names)
        many._arrays = Arrays(table, names)
        return many

    def _for(self, dialect: sa.Dialect) -> tuple[str, tuple[int, ...], tuple, tuple]:
        """The SQL text, where each value goes in the driver's parameters, each name's converter, the fixed values."""
        if dialect.name not in self._compiled:
            keys = list(self.names) if isinstance(self.statement, sa.Insert) else None
            compiled = self.statement.compile(dialect=dialect, column_keys=keys)
            if compiled.positiontup is None:
                raise ValueError(f"{dialect.name} takes named parameters: run the statement through the session")
            convert = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
            processors = tuple(convert[name] for name in self.names)
            # A value the statement fixes itself (``version + 1``) is a parameter too: it goes in every row, converted once.
            fixed = [name for name in compiled.positiontup if name not in self.names]
            values = {name: compiled.binds[name].effective_value for name in fixed}
            constants = tuple(convert[name](values[name]) if convert[name] else values[name] for name in fixed)
            where = {name: i for i, name in enumerate([*self.names, *fixed])}
            order = tuple(where[name] for name in compiled.positiontup)
            self._compiled[dialect.name] = (str(compiled), order, processors, constants)
        return self._compiled[dialect.name]

    def execute(self, rows: list[tuple]) -> int:
        """Run for ``rows`` in the session's transaction; the rows it changed (an INSERT's ``ON CONFLICT`` may skip some)."""
        if not rows:
            return 0
        if not db.session.get_bind().dialect.positional:  # named parameters (psycopg)
            if self._arrays is not None:
                return db.session.execute(self._arrays.statement, self._arrays.params(rows)).rowcount
            return db.session.execute(self.statement, [dict(zip(self.names, row)) for row in rows]).rowcount
        db.session.flush()  # as session.execute would: nothing pending is left behind
        connection = db.session.connection()
        sql, rows = self._driver_rows(connection.dialect, rows)
        return connection.exec_driver_sql(sql, rows).rowcount

    def _driver_rows(self, dialect: sa.Dialect, rows: list[tuple]) -> tuple[str, list[tuple]]:
        """The SQL text and ``rows`` as the driver takes them: converted, with the fixed values, in the statement's order.

        Worked column by column: the tuples are taken apart and put together again by ``zip``,
        and a column's values are converted once per distinct value (a batch repeats its
        times, and often its other values).
        """
        sql, order, processors, constants = self._for(dialect)
        if not any(processors) and not constants and order == tuple(range(len(order))):
            return sql, rows
        columns: list = list(zip(*rows))
        for i, convert in enumerate(processors):
            if convert is not None:
                columns[i] = _converted(columns[i], convert)
        columns.extend(itertools.repeat(value, len(rows)) for value in constants)
        return sql, list(zip(*(columns[i] for i in order)))


def _converted(values: tuple, convert) -> list:
    """``convert`` applied to each value, once per distinct hashable value."""
    done: dict = {}
    out = []
    for value in values:
        try:
            out.append(done[value])
        except KeyError:
            out.append(done.setdefault(value, convert(value)))
        except TypeError:  # not hashable (a JSON list)
            out.append(convert(value))
    return out


class Lookup(Many):
    """A SELECT read at the driver's pace: one row as a plain tuple, its parameters given in ``names`` order.

    For a read made on every view of the most viewed pages (the wallet's state),
    where SQLAlchemy's execution of a statement (its cache key, the result's
    metadata, each row's processing) costs many times what SQLite does with it.
    The values come back as the driver gives them (on SQLite a time is text and a
    boolean 0 or 1; on PostgreSQL a time is in the connection's zone): fit to compare
    and to count, not to show. With named parameters (psycopg) the statement is
    compiled once too, and its parameters given by name.
    """

    def __init__(self, statement: sa.Executable, names: tuple[str, ...]):
        super().__init__(statement, names)
        self._compiled_named: dict[str, tuple[str, tuple, dict]] = {}

    def first(self, *values) -> tuple | None:
        """The statement's first row for ``values``, in the session's transaction; None when there is none."""
        db.session.flush()  # as session.execute would: what the request added is read back on every database
        connection = db.session.connection()
        if connection.dialect.positional:
            sql, (params,) = self._driver_rows(connection.dialect, [values])
        else:
            sql, params = self._named(connection.dialect, values)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def _named(self, dialect: sa.Dialect, values: tuple) -> tuple[str, dict]:
        """The SQL text and its parameters by name (psycopg): converted, with the values the statement fixes."""
        if dialect.name not in self._compiled_named:
            compiled = self.statement.compile(dialect=dialect)
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise ValueError("a lookup takes single values, not lists")
            if not only_reads(str(compiled)):  # it bypasses the events that begin a safe request's transaction
                raise ValueError("a lookup only reads: a SELECT without a write or a lock")
            convert = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
            fixed = {}
            for name, bind in compiled.binds.items():
                if name not in self.names:
                    fixed[name] = convert[name](bind.effective_value) if convert[name] else bind.effective_value
            self._compiled_named[dialect.name] = (str(compiled), tuple(convert[name] for name in self.names), fixed)
        sql, processors, fixed = self._compiled_named[dialect.name]
        params = dict(fixed)
        for name, value, process in zip(self.names, values, processors):
            params[name] = process(value) if process else value
        return sql, params


class Arrays:
    """PostgreSQL: ``INSERT INTO table (names) SELECT * FROM unnest(:name, …)``, each parameter a column's values.

    ``statement`` may be given ``ON CONFLICT`` and ``RETURNING``; RETURNING
    answers in no promised order, so match what it returns by a key, or give the
    ids (``new_ids``). JSON values go as text, read back as JSON by the statement
    (None as JSON ``null``, as SQLAlchemy's JSON type writes it).
    """

    def __init__(self, table: sa.Table, names: tuple[str, ...]):
        self.names = names
        self._json = tuple(isinstance(table.c[name].type, sa.JSON) for name in names)
        given = unnested({name: sa.Text if is_json else table.c[name].type for name, is_json in zip(names, self._json)})
        columns = [
            sa.cast(given.c[name], table.c[name].type) if is_json else given.c[name] for name, is_json in zip(names, self._json)
        ]
        # An INSERT's row count is kept only when asked for: Many.execute answers it.
        self.statement = (
            postgresql.insert(table).from_select(list(names), sa.select(*columns)).execution_options(preserve_rowcount=True)
        )

    def params(self, rows: list[tuple]) -> dict[str, list]:
        """The statement's parameters for ``rows`` (tuples in ``names`` order): one list per name."""
        return {
            name: [json.dumps(value) for value in column] if is_json else list(column)
            for name, is_json, column in zip(self.names, self._json, zip(*rows))
        }


def unnested(columns: dict[str, sa.types.TypeEngine | type]) -> sa.TableValuedAlias:
    """PostgreSQL: ``unnest(:name, …) AS (name, …)``, rows given as one array parameter per column, in their order."""
    arrays = [sa.bindparam(name, type_=postgresql.ARRAY(type_)) for name, type_ in columns.items()]
    return sa.func.unnest(*arrays).table_valued(*columns).render_derived()


def among(column: sa.ColumnElement, values) -> sa.ColumnElement[bool]:
    """``column IN values``: on PostgreSQL as ``= ANY(array)``, one parameter however many values there are."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def new_ids(table: sa.Table, count: int) -> list[int]:
    """Ids for ``count`` new rows of ``table``, ascending: from its sequence on PostgreSQL, after its largest on SQLite."""
    if count == 0:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        taken = sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id"))).select_from(
            sa.func.generate_series(1, count)
        )
        return sorted(db.session.scalars(taken))
    first = next_id(table)
    return list(range(first, first + count))


def next_id(table: sa.Table) -> int:
    """The first id after the table's largest (SQLite numbers rows the same way when none is given)."""
    return db.session.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0) + 1)).scalar_one()


_LOCKING_CLAUSE = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)
_READING_HEAD = re.compile(r"\s*(?:SELECT|WITH)\b", re.IGNORECASE)
# A WITH may hold a data-modifying statement; SELECT … INTO makes a table.
_WRITING_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO)\b", re.IGNORECASE)


def only_reads(statement: str) -> bool:
    """True for a statement that only reads: a SELECT (or a WITH … SELECT) without a write or a lock that must
    outlast it (``FOR UPDATE``, ``FOR SHARE``); False also for anything it cannot tell (erring towards a transaction).

    The rule the application keeps for this (``database._reads_without_transaction_block``): no
    SELECT of a function with a transaction-scoped effect (``pg_advisory_xact_lock``,
    ``set_config(…, true)``); such an effect would end with the statement. ``nextval``
    is not transactional anyway. ``Lookup``, which bypasses SQLAlchemy's events,
    takes statements that only read.
    """
    return bool(_READING_HEAD.match(statement) and not _LOCKING_CLAUSE.search(statement) and not _WRITING_WORD.search(statement))
