"""The catalogue: a name, an EAN and each channel's listing id on top of a SKU.

Channels that name products their own way (Bol.com by EAN, Amazon by SellerSKU, a Bol.com offer id
for stock updates) are matched to our SKUs through these entries, so a wrong one misroutes orders:
an identifier already taken by another SKU is refused (Conflict)."""

from __future__ import annotations

from collections.abc import Mapping

from persistence.conflicts import ConcurrentWrite
from persistence.master_data.catalogue import KEEP_COST, CatalogueConflict, CostChange
from services.errors import Conflict, NotFound
from services.unit_of_work import UnitOfWorkFactory

SAVE_ATTEMPTS = 2


class IdentifierTaken(Conflict):
    """The EAN or a listing id already belongs to another SKU; `field` says which ("ean", or
    "listings.<channel>"), so a form shows the message next to it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Catalogue:
    def __init__(self, units: UnitOfWorkFactory) -> None:
        self._units = units

    def entry(self, sku: str) -> dict[str, object]:
        """{sku, name, ean, listings, unit_cost}; NotFound when the SKU is not in the catalogue."""
        with self._units(read_only=True) as uow:
            return _existing(uow.catalogue.entry(sku), sku)

    def put(
        self,
        sku: str,
        *,
        name: str,
        ean: str | None,
        listings: Mapping[str, str],
        unit_cost: CostChange = KEEP_COST,
        vat_category: str | None = None,
    ) -> dict[str, object]:
        """Create or replace the SKU's entry (unit_cost None: not known, and the stock value report
        lists the SKU apart as "no cost"; KEEP_COST: as it was; vat_category None: as it was, standard for a
        new SKU). Another request may take the same EAN or listing id
        between our check and our write: the second pass finds it and names the owner."""
        for attempt in range(SAVE_ATTEMPTS):
            with self._units() as uow:
                try:
                    uow.catalogue.save(
                        sku, name=name, ean=ean, listings=listings, unit_cost=unit_cost, vat_category=vat_category
                    )
                    if listings:
                        # A channel that now knows the product gets its stock from the feed at once.
                        uow.stock.note_change(sku)
                    uow.commit()
                except CatalogueConflict as exc:
                    raise IdentifierTaken(str(exc), exc.field) from None
                except ConcurrentWrite:
                    if attempt + 1 < SAVE_ATTEMPTS:
                        continue
                    raise Conflict(f"{sku}'s catalogue entry changed meanwhile; retry") from None
                return _existing(uow.catalogue.entry(sku), sku)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def page(
        self, *, query: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, object]], int]:
        """Entries by SKU ({sku, name, ean, listings}) whose SKU, name or EAN contains `query` (any
        case), and how many match in all."""
        with self._units(read_only=True) as uow:
            return uow.catalogue.page(query=query or None, limit=limit, offset=offset)


def _existing(entry: dict[str, object] | None, sku: str) -> dict[str, object]:
    if entry is None:
        raise NotFound(f"{sku} is not in the catalogue")
    return entry
