"""What bol.com does: orders pulled on a schedule; stock by offer id, shipments and cancels out."""

from __future__ import annotations

from integrations.channels.spec import ChannelSpec, Intake, ListingIds

SPEC = ChannelSpec(
    name="bol",
    intake=Intake.PULLED,
    pull_pages=20,  # bol.com's order list is generous
    confirms_shipments=True,  # no click & collect on bol: a collection is confirmed there by hand
    cancels=True,
    cancels_items=True,  # PUT /retailer/orders/cancellation names each orderItemId
    cancel_touches_stock=True,  # bol sets the offer's stock to 0 when the retailer cancels
    listing_ids=ListingIds.REQUIRED,  # stock goes to an offer id; a SKU without one is not offered
)
