"""What a piece of the estate, or a change to it, costs: money once and money every year.

A **cost** is written ``{currency, one_off, per_year}``: ``one_off`` is paid once (set-up,
hiring, migration work), ``per_year`` every year the arrangement lasts (licences, standby
compute, on-call allowances, salaries). Amounts are plain numbers or numbers with a suffix
people use for money: ``250k`` (thousand), ``1.2M`` (million), ``2bn`` (billion); ``250,000``
and ``250_000`` read as 250000. Amounts are never negative: a saving is not a cost.

Costs sit where the money is spent:

* ``services.NAME.recovery.cost`` — running this service's DR arrangement under its strategy
  (standby compute, replication, storage) and setting it up;
* ``staff.ROLE.cost`` — one more person in the role; ``staff.ROLE.shifts[i].cost`` — one more
  person on that shift when it costs something else (a night shift every night needs more than
  one person's year; an on-call slot costs an allowance, not a salary);
* ``change_costs`` at the top of a topology — what a candidate change costs when the estate
  cannot say (:data:`CHANGE_KINDS`, one per kind, or ``KIND:SUBJECT`` for one subject).

Over a horizon of ``years`` a cost amounts to ``one_off + years x per_year``
(:meth:`Cost.total`): no discounting, which a planner can do on the printed parts.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema

from .types import Model
from .units import UnitError

#: Multipliers of the suffixes an amount of money may carry.
SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "m": 1e6, "bn": 1e9, "B": 1e9}
#: Amounts above this (a trillion) are typos, not budgets.
MAX_AMOUNT = 1e12
#: The kinds of candidate change a ``change_costs`` key may name (see :mod:`drsim.analysis.advise`).
CHANGE_KINDS = ("responder", "strategy", "backup", "buffer")

_AMOUNT = re.compile(r"^\s*([+-]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+))\s*(k|K|M|m|bn|B)?\s*$")


def parse_amount(value: str | int | float) -> float:
    """An amount of money written ``250000``, ``250k``, ``1.2M``, ``2bn`` or ``250,000``; never negative."""
    if isinstance(value, bool):
        raise UnitError(f"expected an amount of money such as 250k or 1.2M, found {value!r}")
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        m = _AMOUNT.match(value)
        if not m or not re.search(r"\d", m.group(1)):
            raise UnitError(f"expected an amount of money such as 250000, 250k or 1.2M, found {value!r}")
        amount = float(m.group(1).replace(",", "").replace("_", "")) * SUFFIXES.get(m.group(2) or "", 1.0)
    else:
        raise UnitError(f"expected an amount of money such as 250k or 1.2M, found {value!r}")
    if math.isnan(amount):
        raise UnitError(f"expected an amount of money such as 250k or 1.2M, found {value!r}")
    if amount < 0:
        raise UnitError(f"expected an amount of money of 0 or more (a saving is not a cost), found {value!r}")
    if amount > MAX_AMOUNT:
        raise UnitError(f"amount {value!r} is more than a trillion; is it a typo?")
    return amount


def format_amount(amount: float, currency: str | None = None) -> str:
    """A short reading of an amount: ``250k``, ``1.2M``, ``900``; with its currency, ``USD 250k``."""
    a = abs(amount)
    if a >= 1e9:
        text = f"{amount / 1e9:.3g}bn"
    elif a >= 1e6:
        text = f"{amount / 1e6:.3g}M"
    elif a >= 1e3:
        text = f"{amount / 1e3:.3g}k"
    else:
        text = f"{amount:.0f}"
    return f"{currency} {text}" if currency else text


def _validate_amount(v) -> float:
    try:
        return parse_amount(v)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


Amount = Annotated[
    float,
    PlainValidator(_validate_amount),
    PlainSerializer(lambda a: a, return_type=float),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d[\d,_]*(\.\d*)?|\.\d+)\s*(k|K|M|m|bn|B)?\s*$"},
            ],
            "description": "An amount of money, 0 or more: 250000, '250k', '1.2M', '2bn'.",
            "examples": ["250k", "1.2M", 40000],
        }
    ),
]


def _validate_currency(v) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Z]{3}", v):
        raise ValueError(f"expected a three-letter currency code in capitals such as USD, EUR or GBP, found {v!r}")
    return v


Currency = Annotated[
    str,
    PlainValidator(_validate_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217: USD, EUR, GBP."}),
]


class Cost(Model):
    """Money paid once (``one_off``) and every year (``per_year``), in ``currency``."""

    currency: Currency | None = Field(
        None,
        description="ISO 4217 code (USD, EUR, GBP); every cost in one topology uses the same one. "
        "Omitted: the currency the estate's other costs name.",
    )
    one_off: Amount = Field(0.0, description="Paid once: set-up, hiring, migration work.")
    per_year: Amount = Field(0.0, description="Paid every year: running, licences, salaries, allowances.")

    def total(self, years: float) -> float:
        """What it amounts to over ``years`` years: ``one_off + years x per_year``."""
        return self.one_off + years * self.per_year

    def describe(self, currency: str | None = None) -> str:
        """``USD 25k + 170k/yr``, ``USD 60k/yr``, ``USD 5k once``."""
        cur = self.currency or currency
        parts = []
        if self.one_off:
            parts.append(format_amount(self.one_off))
        if self.per_year or not self.one_off:
            parts.append(f"{format_amount(self.per_year)}/yr")
        text = " + ".join(parts) if self.per_year else f"{parts[0]} once"
        return f"{cur} {text}" if cur else text
