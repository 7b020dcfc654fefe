"""OMS_DEMO=1: two locations and a few SKUs in stock, so a first order has somewhere to ship from."""

from __future__ import annotations

from persistence.db import create_db_engine, create_session_factory
from persistence.guarded_writes import inventory
from persistence.models import Location
from persistence.unit_of_work import UnitOfWork

DEMO_LOCATIONS = [
    Location(
        location_id="AMS",
        name="Amsterdam DC",
        kind="warehouse",
        country="NL",
        postcode="1043 AP",
        address_line1="Contactweg 36",
        city="Amsterdam",
        latitude=52.386,
        longitude=4.836,
        priority=10,
        cost_base_minor=450,
        cost_per_km_minor=2,
    ),
    Location(
        location_id="UTR",
        name="Utrecht store",
        kind="store",
        country="NL",
        postcode="3511 AB",
        address_line1="Oudegracht 100",
        city="Utrecht",
        latitude=52.091,
        longitude=5.122,
        priority=50,
        ship_from_store=True,
        cost_base_minor=600,
    ),
]
DEMO_STOCK = {"AMS": {"TSHIRT-BLK-M": 100, "HOODIE-GRY-L": 40, "MUG-LOGO": 200}, "UTR": {"TSHIRT-BLK-M": 10}}


def seed_demo(database_url: str) -> bool:
    """Seed once: False when the demo locations already exist."""
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with UnitOfWork(create_session_factory(engine)) as uow:
            if uow.session.get(Location, "AMS") is not None:
                return False
            uow.session.add_all(DEMO_LOCATIONS)
            uow.session.flush()
            for location_id, skus in DEMO_STOCK.items():
                for sku, quantity in skus.items():
                    inventory.adjust_on_hand(
                        uow.session, location_id, sku, quantity, kind="receipt", reason="demo seed"
                    )
            uow.commit()
        return True
    finally:
        engine.dispose()
