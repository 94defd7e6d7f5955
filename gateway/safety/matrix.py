"""The client x surface decision matrix of a plan file, optionally against another file.

A cell holds which of the surface's endpoints the client is entitled to. Compared
with another file, a cell lists the endpoints lost and gained there (the one
definition of `gateway.safety.access`) and is marked changed when there are any.
Built from compiled tables, so it shows what the gateway would do, not what the
file's text seems to say.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from gateway.core.decision import DecisionTable
from gateway.safety.access import LOST, access_changes


@dataclass(frozen=True)
class Cell:
    allowed: tuple[str, ...]
    total: int
    lost: tuple[str, ...] = ()
    gained: tuple[str, ...] = ()
    missing_before: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.lost or self.gained or self.missing_before)

    @property
    def label(self) -> str:
        if self.total == 0:
            return "-"
        if len(self.allowed) == self.total:
            return "allow"
        if not self.allowed:
            return "467"
        return f"{len(self.allowed)}/{self.total}"


@dataclass(frozen=True)
class Row:
    client: str
    client_class: str
    first_party: bool
    judged_by: str
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Matrix:
    version: str
    against: str | None
    surfaces: tuple[str, ...]
    rows: tuple[Row, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "against": self.against,
            "surfaces": list(self.surfaces),
            "clients": [
                {
                    **{k: v for k, v in asdict(row).items() if k != "cells"},
                    "cells": {
                        surface: {**asdict(cell), "label": cell.label, "changed": cell.changed}
                        for surface, cell in row.cells.items()
                    },
                }
                for row in self.rows
            ],
        }


def decision_matrix(table: DecisionTable, against: DecisionTable | None = None) -> Matrix:
    """The matrix of `table`; with `against` (the file in force), each cell also lists the access
    lost and gained, as `gateway.safety.access` defines them."""
    changes = access_changes(against, table) if against is not None else ()
    surfaces = tuple(dict.fromkeys([*table.plan_set.surfaces, *(change.surface for change in changes)]))
    by_surface = {s: [e.id for e in table.endpoints if e.surface == s] for s in surfaces}
    lost: dict[tuple[str, str], list[str]] = {}
    gained: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        (lost if change.change == LOST else gained).setdefault((change.client_id, change.surface), []).append(
            change.endpoint_id
        )
    rows: list[Row] = []
    # First-party first, each group in file order (sorted() is stable).
    ordered = sorted(table.clients, key=lambda c: not c.first_party)
    for client in ordered:
        allowed = {
            e.id for e, verdict in zip(table.endpoints, client.verdicts, strict=True) if verdict.allowed
        }
        missing_before = against is not None and client.id not in against.clients_by_id
        cells: dict[str, Cell] = {}
        for surface, ids in by_surface.items():
            cells[surface] = Cell(
                tuple(i for i in ids if i in allowed),
                len(ids),
                tuple(lost.get((client.id, surface), ())),
                () if missing_before else tuple(gained.get((client.id, surface), ())),
                missing_before,
            )
        judged_by = f"exempt ({client.exemption})" if client.exemption else (client.plan or "no plan")
        rows.append(Row(client.id, client.client_class, client.first_party, judged_by, cells))
    return Matrix(table.version, against.version if against else None, surfaces, tuple(rows))
