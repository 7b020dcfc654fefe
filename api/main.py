"""The FastAPI app, built by a factory: `uvicorn --factory api.main:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from temporalio.service import RPCError

from api.errors import http_error
from api.metrics import HttpMetrics, bind_route_ids, count_oversized
from api.openapi import document_common_responses
from api.request_guards import BodyLimit, NoNulInUrl
from api.routes import (
    books,
    catalogue,
    channels,
    codec,
    dashboard,
    deliveries,
    event_subscriptions,
    goodwill,
    health,
    inventory,
    invoices,
    kpis,
    metrics,
    moneybird,
    order_edits,
    orders,
    reports,
    return_labels,
    return_steps,
    returns,
    shipments,
    staff_actions,
    store_credit,
    tracking,
    tracking_returns,
    webhooks,
)
from api.screens import accounts, audit, charts, counter, support, warehouse
from api.screens import reports as report_screens
from api.screens import returns as return_screens
from api.screens import settings as settings_screens
from api.screens.accounts import home_of
from api.screens.pages import NotYours, current_session, page
from api.staff_audit import StaffActions
from api.state import AppState
from config import Settings, startup_settings
from persistence.db import create_db_engine, create_session_factory
from persistence.round_trips import count_round_trips
from persistence.storage_errors import describe
from services.errors import ServiceError
from services.logs import configure_logging
from services.metrics import count_round_trip


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or startup_settings("api")
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = settings.api_db_pool
        engine = create_db_engine(
            settings.resolved_database_url, pool_size=pool.size, max_overflow=pool.max_overflow, ask_for_the_lock=True
        )
        count_round_trips(engine, count_round_trip)
        state = AppState(settings, engine, create_session_factory(engine))
        app.state.oms = state
        # Neither Temporal nor the database need be up yet (503 until they are); connecting now
        # only makes the log say at once when Temporal is not there.
        warm_up = asyncio.create_task(state.temporal.warm_up())
        # Orders taken whose workflow did not start (Temporal away, a process gone): started here.
        sweeper = None
        if settings.intake_sweep_interval.total_seconds() > 0:
            sweeper = asyncio.create_task(state.services.intake_sweeper.run())
        yield
        warm_up.cancel()
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        engine.dispose()

    app = FastAPI(
        title="OMS: order management and fulfilment",
        description="Every order from every channel as a durable Temporal workflow.\n",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(bind_route_ids)],
    )

    _answer_errors(app)
    for module in (
        health,
        webhooks,
        orders,
        order_edits,
        returns,
        return_labels,
        goodwill,
        store_credit,
        return_steps,
        shipments,
        deliveries,
        inventory,
        channels,
        event_subscriptions,
        kpis,
        reports,
        books,
        catalogue,
        invoices,
        tracking,
        tracking_returns,
        dashboard,
        accounts,
        warehouse,
        counter,
        support,
        return_screens,
        settings_screens,
        charts,
        report_screens,
        audit,
        staff_actions,
        codec,
        metrics,
        moneybird,
    ):
        app.include_router(module.router)
    document_common_responses(app)
    # Outermost first refused: a NUL in the URL, then a body past its cap (api.request_guards);
    # around both, every request timed and logged (api.metrics).
    app.add_middleware(
        BodyLimit,
        default=settings.body_limit,
        limits=[("/webhooks/", settings.webhook_body_limit)],
        on_refused=count_oversized,
    )
    app.add_middleware(NoNulInUrl)
    app.add_middleware(HttpMetrics)
    # Around the timing: who did what is written once the answer has gone out (api.staff_audit).
    app.add_middleware(StaffActions)
    # Outermost: a browser's preflight for the codec endpoint is answered before anything else runs.
    app.add_middleware(codec.CodecCors, origins=settings.codec_origins)
    return app


def _answer_errors(app: FastAPI) -> None:
    """Every refusal as a clear 4xx or a 503 with Retry-After, never a 500: bad input, what a use
    case refused, a database or workflow engine that is not there (yet)."""

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"])
        return JSONResponse({"detail": {"message": f"{where}: {first['msg']}", "errors": errors}}, status_code=422)

    @app.exception_handler(NotYours)
    async def _not_yours(request: Request, exc: NotYours) -> Response:
        # A staff page the role may not use: a page saying so, with the way home (api.screens.pages).
        user = exc.user or await asyncio.to_thread(current_session, request)
        home = home_of(user.member) if user is not None else "/dashboard/login"
        what = str(exc.detail)
        return page(request, "accounts/forbidden.html", user, code=403, what=what, needs=exc.needs, home=home)

    @app.exception_handler(ServiceError)
    async def _refused(request: Request, exc: ServiceError) -> Response:
        # What a use case refused, answered as api.errors maps it (the one place for status codes).
        return await http_exception_handler(request, http_error(exc))

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
        # Not reachable (down, restarting, not there yet) or, on SQLite, locked too long: a retry
        # a moment later may well succeed, which a 500 would not say.
        return JSONResponse(
            {"detail": "the database is unavailable: try again shortly"}, status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(DataError)
    async def _data_refused(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value as it is (PostgreSQL: a NUL in text, a number out of range):
        # the same request fails again, so it is the client's to change. The worker's counterpart
        # is activities.permanent_failures; persistence.storage_errors names the column.
        return JSONResponse({"detail": {"message": describe(exc)}}, status_code=422)

    @app.exception_handler(RPCError)
    async def _temporal_error(_: Request, exc: RPCError) -> JSONResponse:
        # Temporal answered with an error we did not expect here: the channel should retry later.
        return JSONResponse(
            {"detail": f"the workflow engine refused the call: {exc.message}"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
