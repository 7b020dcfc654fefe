"""The hand-drawn SVG charts: round axis tops, and data text that cannot become markup."""

from __future__ import annotations

from api.screens.svg import Series, bar_chart, line_chart, nice_ceiling


def test_the_axis_ends_at_a_round_number_above_the_largest_value():
    assert nice_ceiling(0) == (1.0, 0.25)
    assert nice_ceiling(9.2) == (10.0, 2.5)
    assert nice_ceiling(20) == (20.0, 5.0)
    assert nice_ceiling(1234) == (1500.0, 500.0)


def test_names_from_data_are_escaped_and_gaps_break_the_line():
    svg = str(
        line_chart(
            "c",
            "Orders <all>",
            ["2026-03-01", "2026-03-02", "2026-03-03"],
            [Series("<script>x</script>", [1.0, None, 3.0])],
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Orders &lt;all&gt;" in svg
    assert "<polyline" not in svg  # two points separated by a gap: dots, no line through the gap
    assert svg.count("<circle") == 2 and 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    bars = str(bar_chart("b", "Reasons", ['=cmd|"/c calc"!A1', "ok"], [2.0, 1.0]))
    assert bars.count("<rect") == 2 and "&#34;/c calc&#34;" in bars
