"""What Amazon does: orders pulled on a schedule; stock by listing (SellerSKU) and shipments out.

No cancels out: the Orders API has no cancel call for seller-fulfilled orders, so the order's timeline
tells a person to cancel it in Seller Central.
"""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake, ListingIds

SPEC = ChannelSpec(
    name="amazon",
    intake=Intake.PULLED,
    # getOrders allows a burst of 20 then one request a minute, and each page also fetches its orders'
    # items: a smaller run leaves room for the next one instead of draining the burst during a backfill.
    pull_pages=5,
    confirms_shipments=True,  # no click & collect on Amazon: a collection is confirmed there by hand
    cancel_by_hand="Amazon's Orders API has no cancel call for seller-fulfilled orders: cancel it in Seller Central",
    listing_ids=ListingIds.PREFERRED,  # a SellerSKU that differs from our SKU, else our SKU
)
