"""Structured logs, configured once per process (the API, the worker, `make run`'s children): JSON
lines in production (one object per line: what a log shipper reads), plain text in development
(OMS_LOG_FORMAT decides; empty: json in production). Every line, whether written through structlog
or a plain `logging` call (ours, uvicorn's, the Temporal SDK's; in the worker its Rust core's too,
ops.telemetry), goes through
the same processors: the order it is about (`order_id`, bound by intake, the request's route or
the activity's input), the Temporal workflow and activity it ran in, and last the redaction
(services.redaction), which keeps personal data and secrets out of the logs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio import activity, workflow

from config import Environment, Settings
from services.redaction import Redactor

_OURS = "_oms_structured"
"""Marks the root handler this module installed, so configuring again replaces it, nothing else."""

QUIET = {"uvicorn.access": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING}
"""uvicorn's access log names raw paths (order ids, tracking tokens): api.metrics logs each request
with its route template instead. httpx logs every request URL at INFO."""


def log_format(settings: Settings) -> str:
    """json or text (config checks OMS_LOG_FORMAT is one of them, or empty)."""
    return settings.log_format or ("json" if settings.env is Environment.PRODUCTION else "text")


def temporal_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The workflow and activity a line was written in, from the SDK's own log extras
    (`temporal_workflow`, `temporal_activity`) or, for our loggers inside an activity, from its info.
    An order workflow's id is the order id; an activity's input names its order (log_context)."""
    workflow_details, activity_details = event.pop("temporal_workflow", None), event.pop("temporal_activity", None)
    details = activity_details or workflow_details
    event.pop("temporal_log", None)  # the Rust core's raw entry: its text is already the message
    if not isinstance(details, Mapping) and activity.in_activity():
        info = activity.info()
        details = {"workflow_id": info.workflow_id, "activity_type": info.activity_type, "attempt": info.attempt}
    if isinstance(details, Mapping):
        for key in ("workflow_id", "workflow_type", "activity_type", "attempt"):
            if details.get(key) is not None:
                event.setdefault(key, details[key])
    workflow_id = event.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id.startswith("order-"):
        event.setdefault("order_id", workflow_id)
    return event


def _drop_copies_of_the_message(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    event.pop("message", None)  # the formatter's copy on the record, picked up as an extra
    event.pop("color_message", None)  # uvicorn's copy with terminal colours
    return event


def shared_processors(redactor: Redactor) -> list[Processor]:
    """For structlog's own loggers and, before the renderer, for every stdlib record."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_copies_of_the_message,
        temporal_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redactor,
    ]


def formatter(fmt: str, redactor: Redactor) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        # The traceback is text already (format_exc_info, then redacted): printed as it is.
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors(redactor),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def configure_logging(settings: Settings, *, stream: Any = None, level: int = logging.INFO) -> logging.Handler:
    """Route every log line of this process through one handler on the root logger. Called again
    (tests, a second app in one process), it replaces only the handler it installed itself."""
    fmt = log_format(settings)
    redactor = Redactor.for_settings(settings)
    structlog.configure(
        processors=[*shared_processors(redactor), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream) if stream is not None else _StandardError()
    handler.setFormatter(formatter(fmt, redactor))
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _send_to_root(("uvicorn", "uvicorn.error", "uvicorn.access"))
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    # The SDK appends its info dict to every message; the fields are on the line already.
    workflow.logger.workflow_info_on_message = fmt == "text"
    activity.logger.activity_info_on_message = fmt == "text"
    return handler


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is written (as logging's last resort does),
    not the stream it was at start: a test's captured stderr, a redirected one."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _send_to_root(names: Iterable[str]) -> None:
    """uvicorn installs its own handlers before it builds the app: its lines go to ours instead."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
