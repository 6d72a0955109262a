"""Buttons: each kind reads back exactly what it wrote, fits Telegram's 64 bytes, and anything else is refused."""

from __future__ import annotations

import dataclasses
import typing
from enum import Enum

import pytest

from bot.app import BUTTONS, FLOWS
from handlers import callbacks as cb
from store.states import CartAction, PaymentMethod, ProductStatus, SellerAction

KINDS = sorted(cb.Button._kinds.values(), key=lambda kind: kind.prefix)


def sample(kind: type[cb.Button]) -> cb.Button:
    """A button of this kind with a plausible value in every field."""
    values: dict[str, object] = {}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        hint = typing.get_type_hints(kind)[field.name]
        if hint is bool:
            values[field.name] = True
        elif hint is int:
            values[field.name] = 123_456
        elif isinstance(hint, type) and issubclass(hint, Enum):
            values[field.name] = list(hint)[-1]
        else:
            values[field.name] = "blue cap"
    return kind(**values)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_button_reads_back_what_it_wrote(kind: type[cb.Button]) -> None:
    button = sample(kind)
    data = button.pack()
    assert len(data.encode()) <= cb.MAX_BYTES
    assert kind.matches(data)
    assert cb.unpack(data) == button
    # No other kind claims this data.
    assert [other for other in KINDS if other.matches(data)] == [kind]


def test_every_button_has_one_handler() -> None:
    handled = set(BUTTONS) | set(FLOWS.buttons()) | {cb.Noop}
    assert set(KINDS) == handled
    assert not set(BUTTONS) & set(FLOWS.buttons())


@pytest.mark.parametrize("data", [
    "",                                # empty
    "zz:1",                            # unknown prefix
    "a",                               # a field missing
    "a:1:2",                           # a field too many
    "a:one",                           # not a number
    "a:-1",                            # not an id
    "a:007",                           # not written by us
    "sc:5:2",                          # not a flag
    "cl:3:double",                     # not a cart action
    "sa:5:accept",                     # the action's name, not its wire code
    "ms:5:gone",                       # not a product status
    "sp:" + "x" * 70 + ":0",           # over 64 bytes
])
def test_anything_else_is_refused(data: str) -> None:
    with pytest.raises(cb.CallbackError):
        cb.unpack(data)


@pytest.mark.parametrize(("data", "button"), [
    ("sa:12:acc", cb.SellerOrderAction(12, SellerAction.ACCEPT)),
    ("sa:12:shp", cb.SellerOrderAction(12, SellerAction.SHIP)),
    ("sa:12:dlv", cb.SellerOrderAction(12, SellerAction.DELIVER)),
    ("sa:12:cxl", cb.SellerOrderAction(12, SellerAction.CANCEL)),
    ("mv:3:7:p", cb.EditVariant(3, 7, cb.VariantField.PRICE)),
    ("mv:3:7:s", cb.EditVariant(3, 7, cb.VariantField.STOCK)),
    ("cl:5:inc", cb.ChangeCartLine(5, CartAction.INCREASE)),
    ("ms:4:paused", cb.SetProductStatus(4, ProductStatus.PAUSED)),
    ("pm:cod", cb.ChoosePayment(PaymentMethod.COD)),
    ("sc:9:1", cb.ToggleShowcase(9, add=True)),
])
def test_buttons_already_in_chats_keep_working(data: str, button: cb.Button) -> None:
    """The wire format is as it was before buttons became classes: what sellers and shoppers have in their
    chats still reads back, and the same button is written the same way."""
    assert cb.unpack(data) == button
    assert button.pack() == data


def test_a_button_that_would_not_fit_is_not_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        cb.SearchPage(query="x" * 80, page=0).pack()
    with pytest.raises(ValueError, match="without ':'"):
        cb.SearchPage(query="a:b", page=0).pack()
    with pytest.raises(ValueError, match="non-negative integer"):
        cb.ShowProduct(product_id=-3).pack()
