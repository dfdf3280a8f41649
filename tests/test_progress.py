"""Progress lines where no bar can be drawn (issue 19, item 9)."""

from hyp.progress import Ticker


def test_a_phase_says_so_at_once_then_every_few_seconds():
    lines: list[str] = []
    with Ticker(lines.append, every=60) as ticker:
        ticker.begin("H004-r0: evaluating 8 questions × 1 sample(s)")
        ticker.quiet()
    # A phase shorter than the interval still shows: the line comes when it begins.
    assert lines == ["H004-r0: evaluating 8 questions × 1 sample(s) · 0 s"]


def test_no_lines_without_a_place_to_write_them():
    with Ticker(None, every=0.1) as ticker:
        ticker.begin("training")  # nothing to call, nothing raised
