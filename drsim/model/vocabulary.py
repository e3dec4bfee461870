"""Vocabulary: the words reports use for an estate's people, journeys and fallbacks.

drsim models any estate: a hospital, a card-payments platform, a retailer. The
model itself has no domain words (a *workflow* is any journey that needs
several services at once; *communicate* tells whoever uses them to switch to a
fallback), but reports, tables and tabletop packs speak to people, and people
say "clinical workflows" and "tell the wards" in a hospital, "workflows" and
"tell users" elsewhere. A topology declares its vocabulary:

* ``vocabulary: healthcare`` — clinical workflows, downtime procedures, the
  wards, clinicians, patients, the clinical leads;
* ``vocabulary: generic`` (the default) — workflows, fallback procedures,
  users, customers, the service owners;
* a mapping of the words to change, e.g. ``{users: merchants, harmed:
  cardholders}``; words not given are the generic ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .types import Model

#: The named vocabularies a topology may declare instead of a mapping.
PRESETS = ("generic", "healthcare")
Preset = Literal["generic", "healthcare"]


class Vocabulary(Model):
    """The words reports use for an estate (each a lower-case phrase, as it reads inside a sentence)."""

    workflow: str = Field(
        default="workflow", min_length=1, max_length=60, description="One workflow: 'workflow', 'clinical workflow'."
    )
    fallback: str = Field(
        default="fallback procedures",
        min_length=1,
        max_length=60,
        description="What workflows run on while their services are down: 'downtime procedures'.",
    )
    told: str = Field(
        default="users",
        min_length=1,
        max_length=60,
        description="Who the communicate step tells to switch to the fallback: 'the wards', 'users'.",
    )
    users: str = Field(
        default="users",
        min_length=1,
        max_length=60,
        description="Who notices a service down: 'clinicians', 'merchants'.",
    )
    harmed: str = Field(
        default="customers",
        min_length=1,
        max_length=60,
        description="Who is harmed when a workflow is down too long: 'patients', 'cardholders'.",
    )
    owners: str = Field(
        default="the service owners",
        min_length=1,
        max_length=60,
        description="Who agrees a change window: 'the clinical leads', 'the service owners'.",
    )

    @property
    def workflows_heading(self) -> str:
        """The heading of a table of workflows: ``Workflows``, ``Clinical workflows``."""
        return self.workflow[0].upper() + self.workflow[1:] + "s"

    @property
    def tell(self) -> str:
        """The start of the communicate step's name: ``tell users``, ``tell wards``."""
        return "tell " + self.told.removeprefix("the ")

    @property
    def communicate_label(self) -> str:
        """The communicate step's name when the drill gives none: ``tell users: switch to fallback procedures``."""
        return f"{self.tell}: switch to {self.fallback}"


#: The words of a hospital estate.
HEALTHCARE = Vocabulary(
    workflow="clinical workflow",
    fallback="downtime procedures",
    told="the wards",
    users="clinicians",
    harmed="patients",
    owners="the clinical leads",
)
#: The words of any other estate.
GENERIC = Vocabulary()


def vocabulary(declared: Preset | Vocabulary) -> Vocabulary:
    """The words a topology's ``vocabulary`` field stands for."""
    if isinstance(declared, Vocabulary):
        return declared
    return HEALTHCARE if declared == "healthcare" else GENERIC
