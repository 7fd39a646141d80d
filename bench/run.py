"""Benchmark flashdeck against the floor (issues 7 and 10) on a synthetic corpus, in three layouts.

For each layout and size it writes the corpus (bench/corpus.py) into a temp
folder and times, each as a separate process:

- floor:   bench/floor.py (Python-Markdown + genanki's writer, one process)
- cold:    `flashdeck build` with no cache and no lock file
- rebuild: `flashdeck build` after editing one card (cache warm)
- check:   `flashdeck check` (cache warm)
- watch:   the builds of one `--watch` session after one-card edits (bench/watch.py; median of 5)
- clone:   `flashdeck build` with the lock but no cache nor packages: a fresh clone of a deck's repository
- ankdown: the same cards in ankdown's format, built by ankdown (a C Markdown
           renderer), when it can be installed (into bench/out/, git-ignored)

and the peak memory of each process tree (the process and its workers,
sampled every 20 ms). The floor, the cold build, the rebuild and ankdown are
taken in rounds, one after the other, and each is reported as its median
run (`--repeat`, 3 rounds up to 10,000 cards, 1 above): a single run on a
shared 2-core machine moved by a tenth either way. Layouts: `folder` (50 cards a file, one folder, one
package), `files` (50 a file at the top level, one package each), `file`
(every card in one file). It prints a table of seconds and ratios to the
floor measured in the same run, says which deflate path the rebuild took,
and writes everything as JSON to bench/out/.

    python bench/run.py                          # issue 10's set: 3 layouts at 10,000; folder at 1,000; both folder and file at 100,000
    python bench/run.py --sizes 10000 --layouts file
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

PY = sys.executable
DEFAULT = [("folder", 1_000), ("folder", 10_000), ("files", 10_000), ("file", 10_000), ("folder", 100_000), ("file", 100_000)]


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run `cmd`; its wall time, CPU time (itself and its workers), peak memory and what it printed.

    Python may keep its compiled modules (a PYTHONDONTWRITEBYTECODE in the caller's environment is
    dropped): an installed flashdeck, like the floor's libraries, does not compile itself at every run.
    """
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # (a pipe left unread can block a chatty build)
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{stdout}\n{stderr[-3000:]}")
    return {
        "seconds": round(wall, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_tree_mb": round(sampler.peak / 2**20, 1),
        # (not ru_maxrss: Linux carries the forking process's high-water mark across exec, so every
        # command launched from this script, which holds a whole corpus, reported at least its size)
        "peak_process_mb": round(sampler.peak_single / 2**20, 1),
        "stdout": stdout,
    }


class _TreeSampler(threading.Thread):
    """Sums the resident memory of a process and all its descendants, every 20 ms; keeps the peak.

    Also keeps the largest high-water mark (VmHWM) any one of them reached: the kernel's own peak
    of each process since its exec, so a short peak between two samples still counts.

    Descendants are found by a scan of every process in /proc, which costs about 1 ms of CPU: done at
    every sample, it took 6% of a core from the process measured (and so more from a build using both
    cores than from the one-core floor). The scan runs every RESCAN samples; in between only the known
    processes are read.
    """

    RESCAN = 10

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.peak_single = 0
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        tree, n = {self.pid}, 0
        while not self._halt.is_set():
            if n % self.RESCAN == 0:
                tree = _tree(self.pid)
            n += 1
            rss = [_rss(p) for p in tree]
            self.peak = max(self.peak, sum(rss))
            self.peak_single = max(self.peak_single, max((_high_water(p) for p in tree), default=0))
            self._halt.wait(0.02)


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> set[int]:
    """`root` and its descendants now."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                parents[int(name)] = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def _rss(pid: int) -> int:
    """The resident memory of `pid` now (0 when it has exited)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _high_water(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def flashdeck(*args: str) -> list[str]:
    return [PY, "-m", "flashdeck", *args]


def genanki_size(apkg: Path, tmp: Path) -> int:
    """Bytes genanki's own writer needs for the notes in `apkg` (same fields, same note type)."""
    import genanki

    from flashdeck.notetype import BASIC
    from flashdeck.package import genanki_model

    db = tmp / "ours.anki2"
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    model = genanki_model(BASIC)
    deck = genanki.Deck(2**52 + 1, "Bench")
    conn = sqlite3.connect(db)
    for guid, flds, tags in conn.execute("SELECT guid, flds, tags FROM notes"):
        deck.add_note(genanki.Note(model=model, fields=flds.split("\x1f"), guid=guid, tags=tags.split()))
    conn.close()
    target = tmp / "genanki.apkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        genanki.Package(deck).write_to_file(str(target))
    return target.stat().st_size


def ankdown_command(out: Path) -> list[str] | None:
    """ankdown in its own venv under bench/out/ (made on first use), or None when it cannot be installed."""
    venv = out / "ankdown-venv"
    exe = venv / "bin" / "ankdown"
    if not exe.exists():
        try:
            subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "ankdown"], check=True, capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError):
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return [str(exe)]


def median_run(runs: list[dict]) -> dict:
    """The run of median time among `runs` (the time taken in turn with the other measurements of
    its round), every run's seconds beside it, and the highest peak memory of any of them."""
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {
        **middle,
        "runs": [r["seconds"] for r in runs],
        "peak_tree_mb": max(r["peak_tree_mb"] for r in runs),
        "peak_process_mb": max(r["peak_process_mb"] for r in runs),
    }


def measure(layout: str, n: int, work: Path, ankdown: list[str] | None, repeat: int = 1) -> dict:
    root = work / f"{layout}-{n}"
    shutil.rmtree(root, ignore_errors=True)
    cards = corpus.generate(n, root, layout=layout)
    out = root / "dist"
    env = {**os.environ, "FLASHDECK_CACHE_DIR": str(root / "cache")}  # a cold build really starts cold
    result: dict = {"layout": layout, "cards": n, "files": len(list(cards.rglob("*.md")))}
    say = lambda what: print(f"{layout} {n:,}: {what} …", file=sys.stderr, flush=True)  # noqa: E731
    rounds = []
    for k in range(repeat):
        say(f"floor, cold build, rebuild after a one-card edit{'' if repeat == 1 else f' (round {k + 1} of {repeat})'}")
        if k:  # (cold again: no cache, no packages, no lock)
            for gone in (root / "cache", out):
                shutil.rmtree(gone, ignore_errors=True)
            (cards / "flashdeck.lock").unlink()
        taken = {"floor": run([PY, str(HERE / "floor.py"), str(cards), str(root / "floor.apkg")], root)}
        taken["cold"] = run(flashdeck("build", str(cards), "--out", str(out), "-q"), root, env)
        corpus.edit_one_card(cards)
        taken["rebuild"] = run(flashdeck("build", str(cards), "--out", str(out), "--verbose"), root, env)
        if ankdown is not None and n == 10_000:
            deck = corpus.ankdown(cards, root / "ankdown")
            taken["ankdown"] = run([*ankdown, "-r", str(deck), "-p", str(root / "ankdown.apkg")], root)
        rounds.append(taken)
    for key in rounds[0]:
        result[key] = median_run([r[key] for r in rounds])
    packages = sorted(out.glob("*.apkg"))
    result["packages"] = len(packages)
    result["apkg_bytes"] = sum(p.stat().st_size for p in packages)
    m = re.search(r"collection deflated in chunks: (\d+) new, (\d+) from the cache\]", result["rebuild"]["stdout"])
    result["rebuild_deflate"] = (
        {"path": "chunked", "deflated": int(m.group(1)), "reused": int(m.group(2))} if m
        else {"path": "stream" if "one stream" in result["rebuild"]["stdout"] else "unknown"}
    )
    kept = re.search(r"\[([\d,]+) of ([\d,]+) notes written", result["rebuild"]["stdout"])  # (a patched collection: collection.py)
    result["rebuild_notes_written"] = int(kept.group(1).replace(",", "")) if kept else None
    wrote = re.findall(r"^wrote ", result["rebuild"]["stdout"], re.M)
    result["rebuild_packages_written"] = len(wrote)
    say("check")
    result["check"] = run(flashdeck("check", str(cards)), root, env)
    say("rebuilds under --watch")
    watched = run([PY, str(HERE / "watch.py"), str(cards), str(out)], root, env)
    result["watch"] = {**json.loads(watched["stdout"]), "peak_tree_mb": watched["peak_tree_mb"]}
    say("cold build with the lock (a fresh clone)")
    shutil.rmtree(root / "cache")
    shutil.rmtree(out)
    result["clone"] = run(flashdeck("build", str(cards), "--out", str(out), "-q"), root, env)
    if layout == "folder" and n <= 10_000:
        say("genanki's size for the same notes")
        result["genanki_apkg_bytes"] = genanki_size(packages[0], root)
        result["apkg_ratio_to_genanki"] = round(result["apkg_bytes"] / result["genanki_apkg_bytes"], 3)
    floor = result["floor"]["seconds"]
    for key in ("cold", "rebuild", "check", "watch", "clone", "ankdown"):
        if key in result:
            result[key]["ratio_to_floor"] = round(result[key]["seconds"] / floor, 3)
            result[key].pop("stdout", None)
    result["floor"].pop("stdout", None)
    shutil.rmtree(root, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    head = "| layout | cards | floor | cold build | rebuild, 1 card edited | under --watch | check | ankdown, cold | peak memory, cold (floor) |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    rows = [head, rule]

    def cell(r: dict, key: str) -> str:
        if key not in r:
            return "–"
        m = r[key]
        return f"{m['seconds']:.2f} s ({m['ratio_to_floor']:.2f}x)"

    names = {"folder": "one folder, 50 a file", "files": "top-level files, 50 each", "file": "one file"}
    for r in results:
        rows.append(
            f"| {names[r['layout']]} | {r['cards']:,} | {r['floor']['seconds']:.2f} s | {cell(r, 'cold')} | {cell(r, 'rebuild')} | {cell(r, 'watch')} "
            f"| {cell(r, 'check')} | {cell(r, 'ankdown')} | {r['cold']['peak_tree_mb']:.0f} MB ({r['floor']['peak_tree_mb']:.0f} MB) |"
        )
    notes = []
    for r in results:
        d = r["rebuild_deflate"]
        how = f"{d['deflated']} chunks deflated, {d['reused']} from the cache" if d["path"] == "chunked" else f"deflated as {d['path']}"
        patched = f", {r['rebuild_notes_written']:,} note(s) into its collection" if r.get("rebuild_notes_written") is not None else ""
        notes.append(
            f"- {names[r['layout']]}, {r['cards']:,}: the rebuild wrote {r['rebuild_packages_written']} of {r['packages']} package(s) ({how}{patched});"
            f" largest process: rebuild {r['rebuild']['peak_process_mb']:.0f} MB, check {r['check']['peak_process_mb']:.0f} MB"
        )
        if "clone" in r:
            c = r["clone"]
            notes.append(f"  a fresh clone's build (lock, no cache): {c['seconds']:.2f} s ({c['ratio_to_floor']:.2f}x), {c['peak_tree_mb']:.0f} MB, largest process {c['peak_process_mb']:.0f} MB")
        if "apkg_ratio_to_genanki" in r:
            notes.append(f"  .apkg {r['apkg_bytes'] / 2**20:.1f} MB, genanki's writer {r['genanki_apkg_bytes'] / 2**20:.1f} MB: {r['apkg_ratio_to_genanki']:.3f}x")
        if "ankdown" in r:
            notes.append(f"  rebuild / ankdown's cold build: {r['rebuild']['seconds'] / r['ankdown']['seconds']:.2f}; under --watch: {r['watch']['seconds'] / r['ankdown']['seconds']:.2f}")
    return "\n".join(rows) + "\n\n" + "\n".join(notes)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", help="comma-separated card counts, for every layout given (default: issue 10's set)")
    p.add_argument("--layouts", default="folder,files,file", help="comma-separated: folder, files, file")
    p.add_argument("--no-ankdown", action="store_true", help="do not install and time ankdown")
    p.add_argument("--repeat", type=int, help="rounds of floor, cold build, rebuild (and ankdown), the median reported (default: 3 up to 10,000 cards, 1 above)")
    p.add_argument("--work", type=Path, help="where to write the corpora (default: a temp folder, removed afterwards)")
    p.add_argument("--out", type=Path, default=HERE / "out", help="where to write the JSON (default: bench/out)")
    args = p.parse_args()
    import floor

    from flashdeck.render import EXTENSIONS

    assert floor.EXTENSIONS == EXTENSIONS, "bench/floor.py must render with flashdeck's Markdown extensions"
    layouts = [s.strip() for s in args.layouts.split(",") if s.strip()]
    plan = [(layout, int(s.replace("_", ""))) for s in args.sizes.split(",") for layout in layouts] if args.sizes else [
        (layout, n) for layout, n in DEFAULT if layout in layouts
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    ankdown = None if args.no_ankdown else ankdown_command(args.out)
    if ankdown is None and not args.no_ankdown:
        print("ankdown could not be installed: its column stays empty", file=sys.stderr)
    work = args.work or Path(tempfile.mkdtemp(prefix="flashdeck-bench-"))
    try:
        results = [measure(layout, n, work, ankdown, args.repeat or (3 if n <= 10_000 else 1)) for layout, n in plan]
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    from flashdeck import __version__

    report = {
        "flashdeck": __version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "results": results,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nJSON: {args.out / f'bench-{stamp}.json'}")


if __name__ == "__main__":
    main()
