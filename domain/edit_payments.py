"""How an order's final capture is shared when edits' increases were paid apart (payment links: an
extra payment each, paid at once): the order's own payment takes what it still holds, the extra
payments the rest, oldest first; what they hold beyond what was captured goes back.

Pure arithmetic in minor units, so the shares add up to what is due to the cent and no payment is
ever asked for more than it holds (workflows.order.payment carries them out)."""

from __future__ import annotations

from collections.abc import Sequence


def capture_shares(due: int, own_left: int, extras: Sequence[int], extras_taken: int) -> tuple[int, list[int]]:
    """(`due` taken on the order's own payment, the part of it taken on each extra payment):
    the own payment up to `own_left` (what it holds beyond its captures), then each extra payment,
    oldest first, up to what it holds beyond the `extras_taken` captured from them already. A due
    beyond everything held stays on the own payment (its capture refuses what it cannot take, as
    before any edit)."""
    on_extras = max(0, due - max(0, own_left))
    shares: list[int] = []
    taken = extras_taken
    for held in extras:
        part = min(on_extras, max(0, held - taken))
        taken = max(0, taken - held)
        shares.append(part)
        on_extras -= part
    return due - sum(shares), shares


def extra_rests(extras: Sequence[int], extras_taken: int) -> list[int]:
    """What each extra payment holds beyond what was captured from them (oldest captured first):
    given back when everything has left."""
    rests: list[int] = []
    taken = extras_taken
    for held in extras:
        rests.append(held - min(held, taken))
        taken = max(0, taken - held)
    return rests
