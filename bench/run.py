"""Benchmark flashdeck against the floor (issue 7) on a synthetic corpus.

For each size N it writes the corpus (bench/corpus.py) into a temp folder and
times, each as a separate process:

- floor:   bench/floor.py (Python-Markdown + genanki's writer, one process)
- cold:    `flashdeck build` with no cache and no lock file
- rebuild: `flashdeck build` after editing one card (cache warm)
- check:   `flashdeck check` (cache warm)

and the peak memory of the cold build and of the floor (resident set of the
process and its workers together, sampled every 20 ms, and the largest single
process from the kernel). At N = 10,000 it also builds the same cards split
into 200 files that each name their own subdeck. It prints a table of seconds
and ratios to the floor and writes everything as JSON to bench/out/.

    python bench/run.py                       # N = 1,000, 10,000 and 100,000
    python bench/run.py --sizes 1000,10000    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def run(cmd: list[str], cwd: Path) -> dict:
    """Run `cmd`; its wall time, CPU time (itself and its workers) and peak memory."""
    # Files, not pipes: nothing reads a pipe until the process ends, and a build that prints
    # more than a pipe holds (the corpus draws thousands of item-writing warnings) would block.
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out_file, stderr=err_file)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}\n{err}")
    return {
        "seconds": round(wall, 3),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_tree_mb": round(sampler.peak / 2**20, 1),
        "peak_process_mb": round(usage.ru_maxrss / 1024, 1),
    }


class _TreeSampler(threading.Thread):
    """Sums the resident memory of a process and all its descendants, every 20 ms; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._halt.wait(0.02)


def _tree_rss(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(name)] = int(fields[1])
        rss[int(name)] = int(fields[21]) * page
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(p, 0) for p in tree)


def flashdeck(*args: str) -> list[str]:
    return [PY, "-m", "flashdeck", *args]


def fresh_build_state(cards: Path, out: Path) -> None:
    """No cache, no lock file, no output: a first build."""
    shutil.rmtree(cards / ".flashdeck-cache", ignore_errors=True)
    (cards / "flashdeck.lock").unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)


def genanki_size(apkg: Path, tmp: Path) -> int:
    """Bytes genanki's own writer needs for the notes in `apkg` (same fields, same note type)."""
    import genanki

    from flashdeck.package import genanki_model

    db = tmp / "ours.anki2"
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    model = genanki_model()
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


def measure(n: int, work: Path, many_decks: bool) -> dict:
    root = work / f"n{n}"
    shutil.rmtree(root, ignore_errors=True)
    cards = corpus.generate(n, root)
    out = root / "dist"
    result: dict = {"cards": n, "files": len(list((cards / corpus.PACKAGE).glob("*.md")))}
    print(f"N = {n:,}: floor …", file=sys.stderr, flush=True)
    result["floor"] = run([PY, str(HERE / "floor.py"), str(cards), str(root / "floor.apkg")], root)
    print(f"N = {n:,}: cold build …", file=sys.stderr, flush=True)
    fresh_build_state(cards, out)
    result["cold"] = run(flashdeck("build", str(cards), "--out", str(out), "-q"), root)
    apkg = out / f"{corpus.PACKAGE}.apkg"
    result["apkg_bytes"] = apkg.stat().st_size
    print(f"N = {n:,}: rebuild after a one-card edit …", file=sys.stderr, flush=True)
    corpus.edit_one_card(cards)
    result["rebuild"] = run(flashdeck("build", str(cards), "--out", str(out), "-q"), root)
    print(f"N = {n:,}: check …", file=sys.stderr, flush=True)
    result["check"] = run(flashdeck("check", str(cards)), root)
    print(f"N = {n:,}: genanki's size for the same notes …", file=sys.stderr, flush=True)
    result["genanki_apkg_bytes"] = genanki_size(apkg, root)
    result["floor_apkg_bytes"] = (root / "floor.apkg").stat().st_size
    if many_decks:
        print(f"N = {n:,}: the same cards in {result['files']} subdecks …", file=sys.stderr, flush=True)
        split = work / f"n{n}-subdecks"
        shutil.rmtree(split, ignore_errors=True)
        split_cards = corpus.generate(n, split, subdecks=True)
        fresh_build_state(split_cards, split / "dist")
        result["cold_subdecks"] = run(flashdeck("build", str(split_cards), "--out", str(split / "dist"), "-q"), split)
        shutil.rmtree(split, ignore_errors=True)
    floor = result["floor"]["seconds"]
    for key in ("cold", "rebuild", "check", "cold_subdecks"):
        if key in result:
            result[key]["ratio_to_floor"] = round(result[key]["seconds"] / floor, 3)
    if "cold_subdecks" in result:
        result["subdecks_ratio_to_one_deck"] = round(result["cold_subdecks"]["seconds"] / result["cold"]["seconds"], 3)
    result["apkg_ratio_to_genanki"] = round(result["apkg_bytes"] / result["genanki_apkg_bytes"], 3)
    shutil.rmtree(root, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    head = "| cards | floor | cold build | rebuild, 1 card edited | check | peak memory, cold (floor) | .apkg vs genanki |"
    rule = "|---:|---:|---:|---:|---:|---:|---:|"
    rows = [head, rule]
    def cell(r: dict, key: str) -> str:
        m = r[key]
        return f"{m['seconds']:.2f} s ({m['ratio_to_floor']:.2f}x)"

    for r in results:
        rows.append(
            f"| {r['cards']:,} | {r['floor']['seconds']:.2f} s | {cell(r, 'cold')} | {cell(r, 'rebuild')} | {cell(r, 'check')} "
            f"| {r['cold']['peak_tree_mb']:.0f} MB ({r['floor']['peak_tree_mb']:.0f} MB) "
            f"| {r['apkg_bytes'] / 2**20:.1f} MB / {r['genanki_apkg_bytes'] / 2**20:.1f} MB = {r['apkg_ratio_to_genanki']:.3f}x |"
        )
    lines = ["\n".join(rows)]
    for r in results:
        if "cold_subdecks" in r:
            lines.append(
                f"{r['cards']:,} cards in {r['files']} files, each its own subdeck: {r['cold_subdecks']['seconds']:.2f} s cold, "
                f"{r['subdecks_ratio_to_one_deck']:.2f}x the same cards in one deck"
            )
    return "\n\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated card counts (default: 1000,10000,100000)")
    p.add_argument("--work", type=Path, help="where to write the corpora (default: a temp folder, removed afterwards)")
    p.add_argument("--out", type=Path, default=HERE / "out", help="where to write the JSON (default: bench/out)")
    args = p.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = args.work or Path(tempfile.mkdtemp(prefix="flashdeck-bench-"))
    try:
        results = [measure(n, work, many_decks=(n == 10_000)) for n in sizes]
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
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nJSON: {args.out / f'bench-{stamp}.json'}")


if __name__ == "__main__":
    main()
