"""The migration runner, on SQLite and on a real PostgreSQL: in order, once, all or nothing."""

from __future__ import annotations

import sqlite3
import textwrap
import threading

import pytest
import sqlalchemy as sa

from tts_service.storage.database import open_engine
from tts_service.storage.migrate import Migration, SchemaError, load_migrations, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url):
    built = open_engine(database_url)
    yield built
    built.dispose()


def create(table: str):
    def upgrade(conn):
        conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))

    return upgrade


def add_column(table: str, column: str):
    def upgrade(conn):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))

    return upgrade


def tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


STEPS = [
    Migration(1, "0001_articles", create("articles")),
    Migration(2, "0002_title", add_column("articles", "title")),
]


def test_applies_in_order_once_and_records_the_version(engine):
    assert migrate(engine, "registry", STEPS) == 2
    assert {"articles", "schema_version"} <= tables(engine)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("articles")}
    assert columns == {"id", "title"}

    # Again: nothing to do (a second ADD COLUMN would fail).
    assert migrate(engine, "registry", STEPS) == 2

    # A later release adds a step: only that one runs.
    later = [*STEPS, Migration(3, "0003_pages", create("pages"))]
    assert migrate(engine, "registry", later) == 3
    assert "pages" in tables(engine)


def test_components_keep_their_own_versions(engine):
    migrate(engine, "registry", STEPS)
    migrate(engine, "audio_index", [Migration(1, "0001_entries", create("entries"))])
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT component, version FROM schema_version ORDER BY component")
        ).all()
    assert [tuple(row) for row in rows] == [("audio_index", 1), ("registry", 2)]


def test_a_newer_database_is_refused(engine):
    later = [*STEPS, Migration(3, "0003_pages", create("pages"))]
    migrate(engine, "registry", later)
    with pytest.raises(SchemaError, match=r"newer version of the service \(schema 3, .* 2\)"):
        migrate(engine, "registry", STEPS)


def test_a_failing_migration_is_rolled_back_alone(engine):
    def half_done(conn):
        conn.execute(sa.text("CREATE TABLE pages (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    broken = [*STEPS, Migration(3, "0003_broken", half_done)]
    with pytest.raises(SchemaError, match="migration 0003_broken of registry failed"):
        migrate(engine, "registry", broken)
    # The first two stay; the third left nothing behind, not even its first table.
    assert "pages" not in tables(engine)
    fixed = [*STEPS, Migration(3, "0003_pages", create("pages"))]
    assert migrate(engine, "registry", fixed) == 3


def test_misnumbered_steps_are_refused(engine):
    with pytest.raises(SchemaError, match=r"not numbered 1..n: \[1, 3\]"):
        migrate(engine, "registry", [STEPS[0], Migration(3, "0003_x", create("x"))])


def test_processes_starting_together_apply_each_step_once(database_url):
    """A rolling deploy: four processes migrate the same empty database at the same moment."""
    counted = [
        Migration(1, "0001_runs", create("runs")),
        *(Migration(n, f"000{n}_step", _insert_into_runs(n)) for n in range(2, 6)),
    ]
    engines = [open_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine):
        try:
            start.wait()
            migrate(engine, "registry", counted)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with engines[0].connect() as conn:
            runs = conn.execute(sa.text("SELECT id FROM runs ORDER BY id")).scalars().all()
        assert runs == [2, 3, 4, 5]
    finally:
        for engine in engines:
            engine.dispose()


def _insert_into_runs(n: int):
    def upgrade(conn):
        # A primary key: a step run twice would fail here, not pass unseen.
        conn.execute(sa.text("INSERT INTO runs (id) VALUES (:n)"), {"n": n})

    return upgrade


def test_a_database_from_before_the_runner_is_adopted(tmp_path):
    path = tmp_path / "registry.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT)")
    old.execute("PRAGMA user_version=2")
    old.commit()
    old.close()

    engine = open_engine(f"sqlite:///{path}")
    try:

        def user_version(conn):
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

        later = [*STEPS, Migration(3, "0003_pages", create("pages"))]
        # Steps 1 and 2 would fail on the existing table and column: adopted, not re-run.
        assert migrate(engine, "registry", later, adopt=user_version) == 3
        assert "pages" in tables(engine)
    finally:
        engine.dispose()


def test_migrations_are_loaded_from_a_package(tmp_path, monkeypatch):
    package = tmp_path / "shop_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, table in (("0001_items", "items"), ("0002_orders", "orders")):
        (package / f"{name}.py").write_text(
            textwrap.dedent(
                f"""
                import sqlalchemy as sa

                def upgrade(conn):
                    conn.execute(sa.text("CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))
                """
            )
        )
    (package / "helpers.py").write_text("")  # not a migration: ignored
    monkeypatch.syspath_prepend(str(tmp_path))

    loaded = load_migrations("shop_migrations")
    assert [(m.number, m.name) for m in loaded] == [(1, "0001_items"), (2, "0002_orders")]

    (package / "0004_gap.py").write_text("def upgrade(conn):\n    pass\n")
    with pytest.raises(SchemaError, match=r"not numbered 1..n: \[1, 2, 4\]"):
        load_migrations("shop_migrations")
