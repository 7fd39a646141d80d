"""`build --watch`, the progress bar and --verbose (live.py)."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import watchfiles

from apkgutil import read_apkg
from flashdeck import live
from flashdeck.cli import main
from flashdeck.lockfile import LOCK_NAME

GOOD = "## {title} {{#{id}}}\nWhat is {id}?\n\n### Answer\nThis.\n\n### Explanation\n{explanation}\n"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_watch_rebuilds_on_save_prints_what_changed_and_survives_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    alpha = write(cards / "alpha.md", GOOD.format(title="A", id="a-1", explanation="Because."))
    beta = write(cards / "beta.md", GOOD.format(title="B", id="b-1", explanation="Since."))
    out = tmp_path / "dist"
    seen: dict[str, bytes] = {}

    def saves(*paths, **kwargs):
        """What watchfiles would report after each save; the files change just before."""
        assert [Path(p) for p in paths] == [cards]
        alpha.write_text(GOOD.format(title="A", id="a-1", explanation="Because it *is*."), encoding="utf-8")
        yield {(watchfiles.Change.modified, str(alpha))}
        seen["good"] = (out / "alpha.apkg").read_bytes()
        alpha.write_text(GOOD.format(title="A", id="a-1", explanation="Broken.").split("### Explanation")[0], encoding="utf-8")
        yield {(watchfiles.Change.modified, str(alpha))}
        yield {(watchfiles.Change.modified, str(cards / LOCK_NAME)), (watchfiles.Change.added, str(cards / ".flashdeck-cache" / "x"))}
        seen["after_error"] = (out / "alpha.apkg").read_bytes()
        alpha.write_text(GOOD.format(title="A", id="a-1", explanation="Fixed."), encoding="utf-8")
        yield {(watchfiles.Change.modified, str(alpha)), (watchfiles.Change.modified, str(beta))}

    monkeypatch.setattr(watchfiles, "watch", saves)
    monkeypatch.setattr(live, "SETTLE_STEP", 0.01)
    assert main(["build", str(cards), "--out", str(out), "--watch"]) == 0
    stdout, stderr = capsys.readouterr()
    lines = stdout.splitlines()
    assert lines[:5] == [
        f"wrote {out / 'alpha.apkg'}: 1 cards in alpha",
        f"wrote {out / 'beta.apkg'}: 1 cards in beta",
        "changes for learners: 2 new, 0 changed, 0 unchanged, 0 retired",
        "  new      a-1",
        "  new      b-1",
    ]
    assert lines[5] == f"watching {cards} for changes (Ctrl-C to stop)"
    assert lines[6].startswith("alpha.md: rebuilt in ")
    assert lines[6].endswith(" s: 0 new, 1 changed, 1 unchanged, 0 retired")
    assert lines[7].split() == ["changed", "a-1:", "Explanation"]
    assert lines[8] == "alpha.md: not built, the last good packages stay; still watching"
    assert lines[9].startswith("alpha.md, beta.md: rebuilt in ")
    assert len(lines) == 11  # the lock file and cache changes rebuilt nothing
    assert stderr.startswith(f"{alpha}:1: error: card 'a-1' has no explanation")
    assert stderr.endswith("1 error, 0 warnings\n")
    assert seen["after_error"] == seen["good"]


def test_watch_waits_for_a_file_caught_empty_mid_save(tmp_path, capsys, monkeypatch):
    # Editors that save by truncating and rewriting leave the file empty for a moment; a build
    # that read it then would retire every card in it and ship the notices.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    alpha = write(cards / "alpha.md", GOOD.format(title="A", id="a-1", explanation="Because."))
    out = tmp_path / "dist"

    def saves(*paths, **kwargs):
        alpha.write_bytes(b"")  # the editor has truncated the file ...
        rest = GOOD.format(title="A", id="a-1", explanation="Because it is.")
        later = threading.Timer(0.3, lambda: alpha.write_text(rest, encoding="utf-8"))  # ... and writes it 0.3 s later
        later.start()
        yield {(watchfiles.Change.modified, str(alpha))}
        later.join()

    monkeypatch.setattr(watchfiles, "watch", saves)
    monkeypatch.setattr(live, "SETTLE_STEP", 0.05)
    assert main(["build", str(cards), "--out", str(out), "--watch"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stdout.splitlines()[-2].endswith(" s: 0 new, 1 changed, 0 unchanged, 0 retired")
    assert stderr == ""
    assert "retired" not in (cards / LOCK_NAME).read_text(encoding="utf-8")
    assert read_apkg(out / "alpha.apkg").notes["a-1"].fields["Explanation"] == "Because it is."


def test_watch_keeps_watching_when_the_output_cannot_be_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    alpha = write(cards / "alpha.md", GOOD.format(title="A", id="a-1", explanation="Because."))
    out = tmp_path / "dist"

    def saves(*paths, **kwargs):
        out.rename(tmp_path / "moved")
        out.write_text("a file where the output folder was", encoding="utf-8")
        alpha.write_text(GOOD.format(title="A", id="a-1", explanation="Since."), encoding="utf-8")
        yield {(watchfiles.Change.modified, str(alpha))}
        out.unlink()
        (tmp_path / "moved").rename(out)
        yield {(watchfiles.Change.modified, str(alpha))}

    monkeypatch.setattr(watchfiles, "watch", saves)
    monkeypatch.setattr(live, "SETTLE_STEP", 0.01)
    assert main(["build", str(cards), "--out", str(out), "--watch"]) == 0
    stdout, stderr = capsys.readouterr()
    assert "alpha.md: not built, the last good packages stay; still watching" in stdout.splitlines()
    assert stdout.splitlines()[-2].startswith("alpha.md: rebuilt in ")
    assert "error: cannot write (" in stderr and "Traceback" not in stderr
    assert read_apkg(out / "alpha.apkg").notes["a-1"].fields["Explanation"] == "Since."


def test_watch_ignores_the_lock_file_the_cache_and_editor_temp_files(tmp_path):
    cards = tmp_path / "cards"
    accept = live.watched(cards, LOCK_NAME)
    wanted = [cards / "a.md", cards / "renal" / "tubule.md", cards / "renal" / "img.png"]
    unwanted = [
        cards / LOCK_NAME,
        cards / ".flashdeck-cache" / "0a1b",
        cards / "renal" / ".#tubule.md",
        cards / "a.md~",
        cards / ".a.md.swp",
        tmp_path / "dist" / "a.apkg",
    ]
    assert [p for p in wanted if accept(None, str(p))] == wanted
    assert [p for p in unwanted if accept(None, str(p))] == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_on_a_terminal_once_a_run_is_slow():
    screen = Terminal()
    reporter = live.Reporter(screen, bar=True, delay=0.0)
    reporter("cards", 1, 4)
    reporter("cards", 4, 4)
    reporter("write", 1, 1)
    reporter.close()
    shown = screen.getvalue()
    assert "reading and rendering cards" in shown and "4/4" in shown
    assert "writing packages" in shown and "1/1" in shown


def test_quick_runs_pipes_and_quiet_show_no_bar():
    screen = Terminal()
    quick = live.Reporter(screen, bar=True)  # the default delay: about a second
    quick("cards", 1, 1)
    quick.close()
    assert screen.getvalue() == ""
    assert live.Reporter.for_cli(quiet=False, verbose=False, stream=io.StringIO()) is None
    assert live.Reporter.for_cli(quiet=True, verbose=False, stream=Terminal()) is None
    assert live.Reporter.for_cli(quiet=False, verbose=False, stream=Terminal()).bar
    assert not live.Reporter.for_cli(quiet=False, verbose=True, stream=Terminal()).bar


def test_verbose_build_prints_a_plain_line_per_stage(tmp_path, capsys):
    cards = tmp_path / "cards"
    write(cards / "alpha.md", GOOD.format(title="A", id="a-1", explanation="Because."))
    write(cards / "more" / "beta.md", GOOD.format(title="B", id="b-1", explanation="Since."))
    assert main(["build", str(cards), "--out", str(tmp_path / "dist"), "-v"]) == 0
    first = capsys.readouterr().err.splitlines()
    assert main(["build", str(cards), "--out", str(tmp_path / "dist"), "--verbose"]) == 0
    second = capsys.readouterr().err.splitlines()
    assert [line.rsplit(" in ", 1)[0] for line in first] == ["read 2 cards (0 known from the cache or the last build)", "wrote 2 packages"]
    # Nothing changed: both packages are left as they are.
    assert [line.rsplit(" in ", 1)[0] for line in second] == ["read 2 cards (2 known from the cache or the last build)", "wrote 0 packages"]


def test_real_watcher_rebuilds_after_a_saved_edit_and_stops_cleanly_on_ctrl_c(tmp_path):
    """`flashdeck build --watch` in its own process, with real file events: save, see it rebuilt, Ctrl-C."""
    cards, out = tmp_path / "cards", tmp_path / "dist"
    alpha = write(cards / "alpha.md", GOOD.format(title="A", id="a-1", explanation="Because."))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "flashdeck", "build", str(cards), "--out", str(out), "--watch"]
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def next_line(patience: float) -> str | None:
        try:
            line = lines.get(timeout=patience)
        except queue.Empty:
            return None
        seen.append(line)
        return line

    # (SIGINT set back to its default in the child: a shell that starts pytest in the background
    # has it ignored, and Python then installs no handler, so Ctrl-C would never arrive.)
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint) as process:
        reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in process.stdout], daemon=True)
        reader.start()
        try:
            # Generous waits: they only bound a hang, no speed is claimed.
            while (line := next_line(120)) is not None and not line.startswith("watching "):
                pass
            assert line == f"watching {cards} for changes (Ctrl-C to stop)", seen
            before = (out / "alpha.apkg").read_bytes()
            written: list[str] = []
            rebuilt = None
            give_up = time.monotonic() + 120
            while rebuilt is None and time.monotonic() < give_up:
                # The watcher may start listening just after it says so: save again until a save is seen.
                written.append(f"Edited {len(written)}.")
                alpha.write_text(GOOD.format(title="A", id="a-1", explanation=written[-1]), encoding="utf-8")
                while (line := next_line(5)) is not None:
                    if line.startswith("alpha.md: rebuilt in "):
                        rebuilt = line
                        break
            assert rebuilt is not None, seen
            assert rebuilt.endswith(" s: 0 new, 1 changed, 0 unchanged, 0 retired"), rebuilt
            assert (out / "alpha.apkg").read_bytes() != before
            assert read_apkg(out / "alpha.apkg").notes["a-1"].fields["Explanation"] in written
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=120) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=60)
            stderr = process.stderr.read()
    assert "Traceback" not in stderr, stderr
    assert sorted(p.name for p in out.iterdir()) == ["alpha.apkg"]
    assert sorted(p.name for p in cards.iterdir()) == ["alpha.md", "flashdeck.lock"]  # the cache lives elsewhere
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp")] == []
