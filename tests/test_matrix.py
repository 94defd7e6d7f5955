"""The client x surface decision matrix, alone and against another file."""

from __future__ import annotations

from gateway.core.decision import DecisionTable
from gateway.safety.matrix import decision_matrix

INCIDENT_SURFACES = ("links", "media", "tweetdeck", "timeline")
FIRST_PARTY = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")


def test_first_party_rows_come_first_and_are_all_allowed_in_the_baseline(
    baseline_table: DecisionTable,
) -> None:
    matrix = decision_matrix(baseline_table)
    assert [row.client for row in matrix.rows[:7]] == list(FIRST_PARTY)
    for row in matrix.rows[:7]:
        assert {cell.label for cell in row.cells.values()} == {"allow"}
        assert row.judged_by == "exempt (first_party)"


def test_billing_cells_for_first_party_are_467_and_marked_lost(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    matrix = decision_matrix(billing_table, against=baseline_table)
    for row in matrix.rows:
        if row.client in FIRST_PARTY:
            assert row.judged_by == "free"
            for surface in INCIDENT_SURFACES:
                assert row.cells[surface].label == "467"
                assert row.cells[surface].changed
            assert row.cells["login"].label == "3/5"
            assert "login.flow" in row.cells["login"].lost


def test_fixed_file_changes_no_first_party_cell(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    matrix = decision_matrix(fixed_table, against=baseline_table)
    for row in matrix.rows:
        if row.first_party:
            assert not any(cell.changed for cell in row.cells.values())
    sunrise = next(row for row in matrix.rows if row.client == "sunrise-bot")
    assert sunrise.cells["tweets"].lost  # the intended third-party change is still shown


def test_a_file_compared_with_itself_has_no_changed_cell(fixed_table: DecisionTable) -> None:
    matrix = decision_matrix(fixed_table, against=fixed_table)
    assert not any(cell.changed for row in matrix.rows for cell in row.cells.values())
