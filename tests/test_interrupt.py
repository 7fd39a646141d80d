"""Ctrl-C during a real build leaves the old package and no partial file (README, "Errors and warnings").

tests/test_atomic_write.py raises KeyboardInterrupt from inside the writer;
this sends a real SIGINT to a real `flashdeck build` process while its
package is being written, the way a terminal does. It found two bugs: a temp
file named only after it existed (write.py), and a hang when the interrupt
landed inside the zip entry's close (package.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CARD = (
    "## Card {n} {{#card-{n}}}\nWhich option is right in case {n}?\n\n- [ ] One\n- [x] Two {n}\n- [ ] Three\n\n"
    "### Explanation\nBecause of {n}, *always*; see [the review](https://example.org/{n}).\n\n"
)
FILES, CARDS_PER_FILE = 30, 100  # 3,000 cards: writing the package takes a tenth of a second or more


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed into place meanwhile
        return 0


def every_file(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def interrupt_while_writing(process: subprocess.Popen, out: Path, interrupt) -> tuple[bool, str, str]:
    """Call `interrupt()` once a package's temp file beside it has bytes (its zip is being written); what the build said."""
    try:
        interrupted = False
        give_up = time.monotonic() + 120  # only against a hang; the build takes a few seconds
        while process.poll() is None and time.monotonic() < give_up:
            if any(name.endswith(".tmp") and size(out / name) > 0 for name in os.listdir(out)):
                interrupt()
                interrupted = True
                break
            time.sleep(0.001)
        stdout, stderr = process.communicate(timeout=120)  # a hang after Ctrl-C is a failure
    finally:
        if process.poll() is None:
            process.kill()
    return interrupted, stdout, stderr


def test_sigint_while_writing_the_package_keeps_the_old_one_and_leaves_no_temp_file(tmp_path):
    cards, out, scratch = tmp_path / "cards", tmp_path / "dist", tmp_path / "tmp"
    cards.mkdir()
    scratch.mkdir()
    for f in range(FILES):
        (cards / "big").mkdir(exist_ok=True)
        text = "".join(CARD.format(n=f * CARDS_PER_FILE + i) for i in range(CARDS_PER_FILE))
        (cards / "big" / f"part{f:02d}.md").write_text(text, encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(scratch), "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "flashdeck", "build", str(cards), "--out", str(out)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    (cards / "big" / "part00.md").write_text(CARD.format(n="edited") + "\n", encoding="utf-8")
    env["SOURCE_DATE_EPOCH"] = "1700086400"
    before = {**every_file(out), **every_file(cards)}
    assert (out / "big.apkg") in before and (cards / "flashdeck.lock") in before

    # (SIGINT set back to its default in the child: a shell that starts pytest in the background
    # has it ignored, and Python then installs no handler, so the interrupt would never arrive.)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    interrupted, stdout, stderr = interrupt_while_writing(process, out, lambda: process.send_signal(signal.SIGINT))
    assert interrupted, f"the build finished before its package was seen being written: {stdout}{stderr}"
    assert process.returncode == 130, stderr
    assert stderr == "flashdeck: interrupted; nothing was written\n"
    assert stdout == ""
    after = {**every_file(out), **every_file(cards)}
    leftovers = sorted(str(p.relative_to(tmp_path)) for p in after if p.name.endswith(".tmp") or p.name.startswith(".tmp"))
    assert leftovers == []
    assert sorted(os.listdir(out)) == ["big.apkg"]
    assert after[out / "big.apkg"] == before[out / "big.apkg"], "the old package changed"
    assert after[cards / "flashdeck.lock"] == before[cards / "flashdeck.lock"], "the lock changed"
    assert os.listdir(scratch) == [], "a temp folder was left behind"
    subprocess.run(command, env=env, check=True, capture_output=True)
    cache = Path(os.environ["FLASHDECK_CACHE_DIR"])  # (tests/conftest.py gives each test its own)
    assert [p.name for p in cache.rglob("*") if p.name.endswith(("-journal", ".tmp"))] == []


def test_ctrl_c_in_a_terminal_while_workers_make_the_packages_says_one_line_and_keeps_them(tmp_path):
    # A terminal sends SIGINT to every process of the build, workers included. An idle worker
    # printed a KeyboardInterrupt traceback above "interrupted" until workers left Ctrl-C to the
    # parent. Many changed packages are made in the workers (plan.PARALLEL_PACKAGES).
    from flashdeck.plan import PARALLEL_PACKAGES

    cards, out, scratch = tmp_path / "cards", tmp_path / "dist", tmp_path / "tmp"
    cards.mkdir()
    scratch.mkdir()
    files = PARALLEL_PACKAGES + 4
    for f in range(files):
        text = "".join(CARD.format(n=f * CARDS_PER_FILE + i) for i in range(CARDS_PER_FILE))
        (cards / f"part{f:02d}.md").write_text(text, encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(scratch), "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "flashdeck", "build", str(cards), "--out", str(out)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    for f in range(files):  # every package changes
        path = cards / f"part{f:02d}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("Three", "Four", 1), encoding="utf-8")
    before = {**every_file(out), **every_file(cards)}

    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, start_new_session=True,
    )
    interrupted, stdout, stderr = interrupt_while_writing(process, out, lambda: os.killpg(process.pid, signal.SIGINT))  # (as a terminal does)
    assert interrupted, f"the build finished before a package was seen being written: {stdout}{stderr}"
    assert process.returncode == 130, stderr
    assert stderr == "flashdeck: interrupted; nothing was written\n"
    after = {**every_file(out), **every_file(cards)}
    assert [p.name for p in after if p.name.endswith(".tmp")] == []
    assert after == before
    assert os.listdir(scratch) == [], "a temp folder was left behind"
