"""The schema comes from Alembic alone, and the migrations match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from persistence.models import Base


def test_migrated_schema_matches_the_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_every_model_table_exists_with_the_stock_guards(database):
    inspector = inspect(database.engine)
    assert set(Base.metadata.tables) <= set(inspector.get_table_names())
    checks = {c["name"] for c in inspector.get_check_constraints("stock_levels")}
    assert {"stock_reserved_within_on_hand", "stock_on_hand_not_negative"} <= checks
