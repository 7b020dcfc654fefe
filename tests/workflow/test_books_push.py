"""The books' daily schedule (ops.books) books the days not yet booked in Exact Online (its sandbox),
once: triggered twice, each day's sales entry is posted once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.invoicing import Item, invoice
from domain.vat import DUTCH_RATES, STANDARD
from ops.books import BOOKS_SCHEDULE_ID, ensure_books_schedule
from persistence.guarded_writes.invoices import record_document
from sandboxes import exact as exact_sandbox
from sandboxes.server import serve
from tests.integration.test_books import BUYER, REFRESH, _order, eur
from tests.workflow.conftest import running_engine


async def test_the_daily_schedule_books_each_day_once(temporal_client, sqlite_database):
    db = sqlite_database
    amsterdam = ZoneInfo("Europe/Amsterdam")
    today = datetime.now(UTC).astimezone(amsterdam).date()
    days = [today - timedelta(days=3), today - timedelta(days=2)]
    _order(db, "order-webshop-1", "webshop", collected=False)
    for n, day in enumerate(days):
        at = datetime.combine(day, time(12), amsterdam).astimezone(UTC)
        document = invoice([Item("Shirt", STANDARD, eur("121.00"))], eur("6.05"), DUTCH_RATES)
        with db.session() as session, session.begin():
            record_document(
                session, f"inv:{n}", document, order_id="order-webshop-1", channel="webshop", buyer=BUYER, at=at
            )
    app = exact_sandbox.create_app(refresh_token=REFRESH)
    state = app.state.exact
    with serve(app) as url:
        settings: dict[str, Any] = {
            "exact_enabled": True,
            "exact_base_url": url,
            "exact_client_id": exact_sandbox.CLIENT_ID,
            "exact_client_secret": exact_sandbox.CLIENT_SECRET,
            "exact_refresh_token": REFRESH,
        }
        async with running_engine(temporal_client, db, **settings) as engine:
            await ensure_books_schedule(temporal_client, engine.settings)
            await ensure_books_schedule(temporal_client, engine.settings)  # a second worker starting
            handle = temporal_client.get_schedule_handle(BOOKS_SCHEDULE_ID)
            try:
                for _ in range(2):  # a run, and a run again: nothing more is booked
                    before = len((await handle.describe()).info.recent_actions)
                    await handle.trigger()
                    deadline = asyncio.get_running_loop().time() + 30
                    while asyncio.get_running_loop().time() < deadline:
                        description = await handle.describe()
                        recent = description.info.recent_actions
                        running = description.info.running_actions
                        if len(recent) > before and not running:
                            break
                        await asyncio.sleep(0.2)
                    assert state.posts == 2
                refs = sorted(entry["YourRef"] for entry in state.entries)
                assert refs == [f"OMS-{day:%Y%m%d}-EUR-webshop" for day in days]
            finally:
                await handle.delete()
