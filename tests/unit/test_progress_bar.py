"""The CLI's terminal progress bar (cli/progress.py) against a fake terminal stream, and its seam in core/apply."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from mkdocs_s3_crossaccount.cli.progress import Bar, BarHandler, is_terminal, render
from mkdocs_s3_crossaccount.core.apply import ProgressUpdate, apply_plan, observing
from mkdocs_s3_crossaccount.core.inventory import scan
from mkdocs_s3_crossaccount.core.memory import MemoryDestination
from mkdocs_s3_crossaccount.core.plan import PlanRules, make_plan


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_is_a_tty_whose_term_is_not_dumb() -> None:
    assert is_terminal(FakeTerminal(), {"TERM": "xterm-256color"})
    assert is_terminal(FakeTerminal(), {})
    assert not is_terminal(FakeTerminal(), {"TERM": "dumb"})
    assert not is_terminal(FakeTerminal(tty=False), {"TERM": "xterm"})
    closed = io.StringIO()
    closed.close()
    assert not is_terminal(closed, {})  # isatty() on a closed stream raises ValueError


def test_render_shows_objects_bytes_and_rate_within_the_width() -> None:
    text = render(ProgressUpdate("upload", 5, 10, 512 * 1024, 1024 * 1024), seconds=2.0)
    assert text == "Uploading [##########----------]  5/10 objects  512.0 KB/1.0 MB  256.0 KB/s"
    assert render(ProgressUpdate("delete", 3, 12), seconds=1.0) == (
        "Deleting [#####---------------]  3/12 objects  3 objects/s"
    )
    assert len(render(ProgressUpdate("upload", 5, 10, 1, 2), seconds=1.0, columns=30)) == 29
    assert "\x1b" not in text  # plain text: nothing for NO_COLOR to turn off


def test_bar_redraws_in_place_throttled_and_erases_at_the_end() -> None:
    out, clock = FakeTerminal(), Clock()
    bar = Bar(out, min_interval=0.5, clock=clock, columns=lambda: 200)
    bar.update(ProgressUpdate("upload", 0, 3, 0, 300))  # the first update always draws
    first = out.getvalue()
    assert first.startswith("\rUploading [") and "0/3 objects" in first and "\n" not in first
    clock.now += 0.1
    bar.update(ProgressUpdate("upload", 1, 3, 100, 300))  # too soon: not drawn
    assert out.getvalue() == first
    clock.now += 1.0
    bar.update(ProgressUpdate("upload", 2, 3, 200, 300))
    assert out.getvalue().count("\r") == 2 and "2/3 objects" in out.getvalue()
    drawn = out.getvalue().rsplit("\r", 1)[1]
    bar.update(ProgressUpdate("upload", 3, 3, 300, 300))  # the last: the line is erased, cursor at its start
    assert out.getvalue().endswith("\r" + " " * len(drawn) + "\r")
    assert "\n" not in out.getvalue()
    bar.close()  # nothing shown: nothing written
    assert out.getvalue().endswith(" \r")


def test_a_shorter_line_blanks_the_rest_of_the_longer_one() -> None:
    out, clock = FakeTerminal(), Clock()
    bar = Bar(out, min_interval=0, clock=clock, columns=lambda: 200)
    bar.update(ProgressUpdate("upload", 0, 1000, 0, 10 * 1024**3))
    long = out.getvalue()[1:]
    clock.now += 1
    bar.update(ProgressUpdate("delete", 0, 2))
    last = out.getvalue().rsplit("\r", 1)[1]
    assert len(last) == len(long) and last.rstrip().endswith("objects/s")


def test_log_lines_erase_the_bar_then_it_is_redrawn() -> None:
    out, clock = FakeTerminal(), Clock()
    bar = Bar(out, clock=clock, columns=lambda: 200)
    handler = BarHandler(out, bar)
    handler.setFormatter(logging.Formatter("%(message)s"))
    bar.update(ProgressUpdate("upload", 1, 4, 10, 40))
    drawn = out.getvalue()
    handler.emit(logging.LogRecord("x", logging.WARNING, __file__, 1, "a warning", None, None))
    after = out.getvalue()[len(drawn) :]
    erase = "\r" + " " * (len(drawn) - 1) + "\r"
    assert after.startswith(erase + "a warning\n")
    assert after[len(erase + "a warning\n") :].startswith("\rUploading [") and "1/4 objects" in after
    bar.close()
    handler.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "summary", None, None))
    assert out.getvalue().endswith("\rsummary\n") or out.getvalue().endswith(" \rsummary\n")


def test_apply_reports_uploads_and_deletes_to_the_observer(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for name in ("index.html", "a.css", "b.js"):
        (site / name).write_text(name, encoding="utf-8")
    dest = MemoryDestination()
    seen: list[ProgressUpdate] = []
    with observing(seen.append):
        apply_plan(dest, make_plan(scan(str(site), ""), dest.list()), progress_interval=0)
    uploads = [u for u in seen if u.action == "upload"]
    assert [u.done for u in uploads] == [0, 1, 2, 3] and {u.total for u in uploads} == {3}
    assert uploads[-1].done_bytes == uploads[-1].total_bytes == sum(len(n) for n in ("index.html", "a.css", "b.js"))
    (site / "a.css").unlink()
    (site / "b.js").unlink()
    seen.clear()
    with observing(seen.append):
        apply_plan(dest, make_plan(scan(str(site), ""), dest.list(), rules=PlanRules(delete_unmanaged=True)), 0)
    assert [(u.action, u.done, u.total) for u in seen] == [("delete", 0, 2), ("delete", 2, 2)]
    # outside `observing` nothing is reported
    (site / "c.css").write_text("new", encoding="utf-8")
    seen.clear()
    apply_plan(dest, make_plan(scan(str(site), ""), dest.list()), progress_interval=0)
    assert seen == [] and "c.css" in dest.list()
