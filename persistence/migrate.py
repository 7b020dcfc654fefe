"""Bring a database to the newest schema with Alembic (the only way the schema is created)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


if __name__ == "__main__":
    from config import startup_settings

    upgrade_to_head(startup_settings("migrate").resolved_database_url)
