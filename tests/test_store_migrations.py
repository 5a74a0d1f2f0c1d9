"""Migrations: they match the models, and they keep the data already stored."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from digest.scheduler import JOBS_TABLE
from digest.store.db import Database, alembic_config, make_engine
from digest.store.models import Base


def test_models_match_the_migrations(db: Database) -> None:
    def ours(name: str | None, kind: str, _parent: object) -> bool:
        # APScheduler creates its own job table; it is not part of our schema.
        return not (kind == "table" and name == JOBS_TABLE)

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": ours}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_keeps_frozen_renderings_and_subscribers(db_url: str) -> None:
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    try:
        command.downgrade(cfg, "base") if engine.dialect.name == "postgresql" else None
        command.upgrade(cfg, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO editions (id, newsletter_date, status, language, subject, "
                    "preheader, html, text, created_at, frozen_at) VALUES (1, '2026-11-24', "
                    "'sent', 'de', 'Betreff', 'Vorschau', '<p>html</p>', 'text', "
                    "'2026-11-24 05:00:00', '2026-11-24 05:30:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO subscribers (id, email, status, source, created_at, updated_at) "
                    "VALUES (1, 'anna@example.com', 'active', 'cli', '2026-11-01 00:00:00', "
                    "'2026-11-01 00:00:00')"
                )
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            variant = conn.execute(
                text("SELECT key, language, subject, preheader, html, text FROM edition_variants")
            ).one()
            assert tuple(variant) == ("de", "de", "Betreff", "Vorschau", "<p>html</p>", "text")
            topics = conn.execute(text("SELECT topics FROM subscribers")).scalar_one()
            assert topics in ("[]", [])
        command.downgrade(cfg, "0001")
        with engine.connect() as conn:
            subject = conn.execute(text("SELECT subject FROM editions")).scalar_one()
            assert subject == "Betreff"
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def test_0005_keeps_articles_and_marks_their_dates_as_their_own(db_url: str) -> None:
    engine = make_engine(db_url)
    cfg = alembic_config(engine)
    try:
        command.downgrade(cfg, "base") if engine.dialect.name == "postgresql" else None
        command.upgrade(cfg, "0004")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO articles (id, canonical_url, url, title, teaser, body_html, "
                    "body_text, published_at, topics, priority, views, content_hash, created_at, "
                    "updated_at) VALUES (1, 'https://a.example/1', 'https://a.example/1', 'T', "
                    "'', '', '', '2026-11-24 05:00:00', '[]', 0, 0, 'h', '2026-11-24 05:00:00', "
                    "'2026-11-24 05:00:00')"
                )
            )
        command.upgrade(cfg, "0005")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT title, published_at_estimate FROM articles")).one()
            assert tuple(row) == ("T", None)
            conn.execute(text("UPDATE articles SET published_at_estimate = 'ingest'"))
            conn.commit()
        command.downgrade(cfg, "0004")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM articles")).scalar_one() == "T"
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
