"""The unit of work a service runs in: one transaction, its repositories, rolled back unless the
service commits (cosmicpython's pattern). Services receive a factory and open one per use case, so
no transaction outlives the call, and a test can hand them a fake one.

`read_only=True` is for work that only reads: on SQLite it takes no write lock, and on both
databases a write in it fails (persistence.db)."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.orm import Session

from persistence.accounts import SqlAccounts
from persistence.conflicts import translated
from persistence.db import SessionFactory, readers_of
from persistence.master_data.channels import PolicyCache
from persistence.repositories import (
    SqlCatalogue,
    SqlChannels,
    SqlDeliveries,
    SqlIntake,
    SqlLocations,
    SqlMessages,
    SqlOrders,
    SqlPayments,
    SqlReports,
    SqlReturns,
    SqlShipments,
    SqlSourcing,
    SqlStaffActions,
    SqlStock,
    SqlStoreCredit,
)
from services.repositories import (
    AccountRepository,
    CatalogueRepository,
    ChannelRepository,
    DeliveryRepository,
    IntakeRepository,
    LocationRepository,
    MessageRepository,
    OrderRepository,
    PaymentRepository,
    ReportRepository,
    ReturnRepository,
    ShipmentRepository,
    SourcingRepository,
    StaffActionRepository,
    StockRepository,
    StoreCreditRepository,
)


class AbstractUnitOfWork(abc.ABC):
    orders: OrderRepository
    returns: ReturnRepository
    shipments: ShipmentRepository
    deliveries: DeliveryRepository
    stock: StockRepository
    locations: LocationRepository
    catalogue: CatalogueRepository
    channels: ChannelRepository
    messages: MessageRepository
    reports: ReportRepository
    payments: PaymentRepository
    sourcing: SourcingRepository
    accounts: AccountRepository
    staff_actions: StaffActionRepository
    credit: StoreCreditRepository
    intake: IntakeRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Keep what was done; raises persistence.conflicts.ConcurrentWrite when another transaction
        wrote one of the same unique keys first (or LockCycle: try again)."""

    @abc.abstractmethod
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> AbstractUnitOfWork: ...


class SqlUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory: SessionFactory, policies: PolicyCache) -> None:
        self._session_factory = session_factory
        self._policies = policies
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._session = self._session_factory()
        self.orders = SqlOrders(session)
        self.returns = SqlReturns(session)
        self.shipments = SqlShipments(session)
        self.deliveries = SqlDeliveries(session)
        self.stock = SqlStock(session)
        self.locations = SqlLocations(session)
        self.catalogue = SqlCatalogue(session)
        self.channels = SqlChannels(session, self._policies)
        self.messages = SqlMessages(session)
        self.reports = SqlReports(session)
        self.payments = SqlPayments(session)
        self.sourcing = SqlSourcing(session)
        self.accounts = SqlAccounts(session)
        self.staff_actions = SqlStaffActions(session)
        self.credit = SqlStoreCredit(session)
        self.intake = SqlIntake(session)
        return super().__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Closing rolls back whatever was not committed, like rollback(), but leaves the rows read
        # here readable once the session is gone (detached, not expired): services return them.
        self._open().close()
        self._session = None

    def commit(self) -> None:
        with translated():
            self._open().commit()

    def rollback(self) -> None:
        self._open().rollback()

    def _open(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._session


class SqlUnitsOfWork:
    """Units of work on one database: writers, and read-only readers beside them."""

    def __init__(self, writers: SessionFactory, readers: SessionFactory, policies: PolicyCache) -> None:
        self._writers = writers
        self._readers = readers
        self._policies = policies

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._readers if read_only else self._writers, self._policies)


def units_on(session_factory: SessionFactory, policies: PolicyCache | None = None) -> SqlUnitsOfWork:
    """Units of work for a process that holds only a session factory (scripts, tests): its readers
    are made on the same engine (persistence.db.readers_of)."""
    return SqlUnitsOfWork(session_factory, readers_of(session_factory), policies or PolicyCache())
