"""Command line: `flashdeck build|check|ids|diff|preview`.

`main(argv)` returns the exit status: 0 ok (warnings allowed), 1 when the cards
have errors (or warnings with --strict), 2 for bad usage. Our own errors become
compiler-style lines here; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import live, memory
from .errors import Diagnostic, FlashdeckError, sort_key
from .version import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flashdeck", description="Markdown question files -> Anki decks (.apkg).")
    p.add_argument("--version", action="version", version=f"flashdeck {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build one .apkg per top-level file or folder of CARDS_DIR")
    b.add_argument("cards_dir", nargs="?", default="cards", type=Path, metavar="CARDS_DIR")
    b.add_argument("--out", default="dist", type=Path, metavar="DIR", help="output folder (default: dist)")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--dry-run", action="store_true", help="print what a re-import would do; write nothing")
    b.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    b.add_argument("-v", "--verbose", action="store_true", help="print how long each stage took, no progress bar")
    b.add_argument("--watch", action="store_true", help="build, then rebuild on every save until Ctrl-C")
    b.add_argument("--no-cache", action="store_true", help="parse and render every file anew (the cache is .flashdeck-cache/ in CARDS_DIR)")

    c = sub.add_parser("check", help="validate CARDS_DIR without writing anything")
    c.add_argument("cards_dir", nargs="?", default="cards", type=Path, metavar="CARDS_DIR")
    c.add_argument("--strict", action="store_true", help="treat warnings as errors")

    d = sub.add_parser("diff", help="print what building now would change for learners (same as build --dry-run)")
    d.add_argument("cards_dir", nargs="?", default="cards", type=Path, metavar="CARDS_DIR")
    d.add_argument("--out", default="dist", type=Path, metavar="DIR", help=argparse.SUPPRESS)

    i = sub.add_parser("ids", help="list cards without an id; --write adds ids to the files")
    i.add_argument("cards_dir", nargs="?", default="cards", type=Path, metavar="CARDS_DIR")
    i.add_argument("--write", action="store_true", help="add the ids to the source files")

    v = sub.add_parser("preview", help="write one offline HTML file showing every card front and back as on a phone")
    v.add_argument("cards_dir", nargs="?", default="cards", type=Path, metavar="CARDS_DIR")
    v.add_argument("--out", default=Path("dist") / "preview.html", type=Path, metavar="FILE", help="output file (default: dist/preview.html)")
    v.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    memory.tune()
    try:
        return _run(args)
    except FlashdeckError as err:
        _print_problems(err.diagnostics)
        return 1
    except KeyboardInterrupt:
        print("flashdeck: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`flashdeck diff | head`): say nothing more, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _run(args) -> int:
    from . import api

    if args.command == "check":
        reporter = live.Reporter.for_cli(quiet=False, verbose=False)
        try:
            report = api.check(args.cards_dir, strict=args.strict, progress=reporter)
        finally:
            if reporter is not None:
                reporter.close()
        _print_problems(report.warnings)
        print(f"{args.cards_dir}: {report.cards} cards in {report.packages} package(s), no errors")
        return 0
    if args.command in ("build", "diff"):
        if getattr(args, "watch", False):
            return _watch(args)
        dry = args.command == "diff" or args.dry_run
        verbose = getattr(args, "verbose", False)
        reporter = live.Reporter.for_cli(getattr(args, "quiet", False), verbose)
        try:
            report = api.build(
                args.cards_dir, args.out, strict=getattr(args, "strict", False), dry_run=dry,
                progress=reporter, use_cache=not getattr(args, "no_cache", False),
            )
        finally:
            if reporter is not None:
                reporter.close()
        _print_problems(report.warnings)
        if not getattr(args, "quiet", False):
            _print_build(report, dry, verbose)
        return 0
    if args.command == "preview":
        from . import preview

        report = preview.write(args.cards_dir, args.out, strict=args.strict)
        _print_problems(report.warnings)
        print(f"wrote {report.path}: {report.cards} cards in {decks_shown(report.decks)}")
        return 0
    if args.command == "ids":
        from .ids import assign_ids

        assigned = assign_ids(args.cards_dir, write=args.write)
        for a in assigned:
            verb = "added" if args.write else "would add"
            print(f"{a.path}:{a.line}: {verb} id '{a.id}'")
        if not assigned:
            print("every card has an id")
        return 0
    raise AssertionError(args.command)


def _print_build(report, dry: bool, verbose: bool) -> None:
    unchanged = [pkg for pkg in report.packages if pkg.unchanged]
    for pkg in report.packages:
        if pkg.unchanged and not verbose:
            continue
        verb = "unchanged" if pkg.unchanged else ("would write" if dry else "wrote")
        retired = f" (+{pkg.retired} retired)" if pkg.retired else ""
        how = ""
        total = pkg.cards + pkg.retired
        kept = f"{pkg.notes_written:,} of {total:,} notes written, the rest kept from the last build; " if pkg.notes_written < total else ""
        if verbose and pkg.deflate == "chunked":
            how = f" [{kept}collection deflated in chunks: {pkg.chunks_deflated} new, {pkg.chunks_reused} from the cache]"
        elif verbose and pkg.deflate:
            how = f" [{kept}collection deflated as one stream]"
        print(f"{verb} {pkg.path}: {pkg.cards} cards{retired} in {decks_shown(pkg.decks)}{how}")
    if unchanged and not verbose:
        n = len(unchanged)
        print(f"{n} package{'s' * (n != 1)} unchanged, left as {'they are' if n != 1 else 'it is'}")
    for path in report.removed:
        print(f"{'would remove' if dry else 'removed'} {path}: its card file is gone (its cards retired or moved)")
    print(("changes for learners: " if not dry else "a re-import would bring: ") + report.change.summary(None if verbose else 10))


def decks_shown(decks: list[str], most: int = 3) -> str:
    """Deck names for a summary line: all of a few, or how many under their common parent."""
    if len(decks) <= most:
        return ", ".join(decks)
    parts = [d.split("::") for d in decks]
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    if common:
        return f"{len(decks)} decks under {'::'.join(common)}::"
    return f"{len(decks)} decks ({', '.join(decks[:most])}, …)"


def _watch(args) -> int:
    """`build --watch`: a full build, then after each save only what changed and any problems."""
    from . import api
    from .lockfile import LOCK_NAME
    from .session import Session

    with Session() as session:  # kept between builds: renderer, workers, results of unchanged cards

        def once(names: str | None) -> None:
            started = time.perf_counter()
            try:
                report = api.build(args.cards_dir, args.out, strict=args.strict, dry_run=args.dry_run, use_cache=not args.no_cache, session=session)
            except FlashdeckError as err:
                _print_problems(err.diagnostics)
                if names is None:
                    print("not built: fix the problems above; still watching", flush=True)
                else:
                    print(f"{names}: not built, the last good packages stay; still watching", flush=True)
                return
            _print_problems(report.warnings)
            if names is None:
                if not args.quiet:
                    _print_build(report, args.dry_run, args.verbose)
            else:
                print(f"{names}: rebuilt in {time.perf_counter() - started:.2f} s: {report.change.summary(None if args.verbose else 10)}", flush=True)

        once(None)
        return live.watch(lambda paths: once(", ".join(_shown(p, args.cards_dir) for p in paths)), args.cards_dir, LOCK_NAME)


def _shown(path: Path, cards_dir: Path) -> str:
    try:
        return path.resolve().relative_to(Path(cards_dir).resolve()).as_posix()
    except ValueError:
        return str(path)


def _print_problems(diags: list[Diagnostic]) -> None:
    """Each problem as `path:line[:col]: severity: message` in file order, then the counts (stderr)."""
    for d in sorted(diags, key=sort_key):
        print(d, file=sys.stderr)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    if diags:
        print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}", file=sys.stderr)
