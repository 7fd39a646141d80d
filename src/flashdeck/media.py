"""Images a card shows: found in its rendered HTML, checked, packaged under content hashes.

The rendered and sanitised HTML is the truth about what a card shows: every
`<img src>` nh3 kept is there, however the author wrote it (`![a](<sp ace.png>)`,
`<img src=x.png>`, `&amp;` or `%2E` in a path). Each one is either packaged or
a located error (validate.py); none is silently broken.

Anki keeps every deck's media in one flat folder, so `image.png` from two decks
would overwrite each other. Each image is packaged as `fd-<sha256[:16]><suffix>`:
the same bytes always get the same name, different bytes never share one.
Images are hashed as streams, and a digest is kept in the cache under the
file's size and modification time, so a rebuild does not read them again.
"""

from __future__ import annotations

import hashlib
import html
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

WARN_BYTES = 5 * 2**19
"""2.5 MiB: Anki's media sync fills one upload with up to this much (MEDIA_SYNC_TARGET_ZIP_BYTES in
Anki's rslib/src/sync/media/mod.rs), so a bigger image is a slow sync of its own on every learner's phone."""
MAX_BYTES = 100 * 2**20
"""100 MiB: Anki's media sync refuses bigger files (MAX_INDIVIDUAL_MEDIA_FILE_SIZE, same file), so
learners who sync would never get it."""

OK = "ok"
REMOTE = "remote"
OUTSIDE = "outside"
MISSING = "missing"
TOO_BIG = "too-big"
_REMOTE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class Image:
    """One image source of a card, resolved."""

    src: str
    """As the rendered HTML has it."""
    status: str
    path: Path | None = None
    size: int = 0
    name: str = ""
    """Its packaged name (status ok)."""


def written(src: str) -> str:
    """The path an author meant by an HTML `src` (entities and %-escapes decoded)."""
    return unquote(html.unescape(src))


def resolve(src: str, folder: Path, root: Path, digests, real: dict[Path, Path]) -> Image:
    """Where the image `src` of a card in `folder` lives, inside the cards folder `root` (resolved).

    `digests(path, stat) -> packaged name` hashes the file (or remembers it). `real`: the paths
    this build resolved already, by path as joined (cards show the same figures: 2,000 of them took 0.14 s to resolve,
    a symlink lookup a folder of the path each).
    """
    ref = written(src)
    if _REMOTE_RE.match(ref) or ref.startswith("//"):
        return Image(src, REMOTE)
    candidates = [ref] if ref == html.unescape(src) else [ref, html.unescape(src)]  # a file may really be named a%2Eb.png
    for want in candidates:
        path = folder / want
        target = real.get(path)
        if target is None:
            target = real[path] = path.resolve()
        try:
            target.relative_to(root)
        except ValueError:
            return Image(src, OUTSIDE, target)
        try:
            st = target.stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > MAX_BYTES:
            return Image(src, TOO_BIG, target, st.st_size)
        return Image(src, OK, target, st.st_size, digests(target, st))
    return Image(src, MISSING, (folder / ref))


def packaged_name(path: Path) -> str:
    """`fd-<first 16 hex digits of SHA-256>` and the lower-cased suffix, reading the file in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"fd-{h.hexdigest()[:16]}{path.suffix.lower()}"


def rewrite(fields: tuple[str, ...], names: dict[str, str]) -> tuple[str, ...]:
    """Fields with each image `src` replaced by its packaged name."""
    if not names:
        return fields

    def swap(m: re.Match) -> str:
        return f'{m.group(1)}"{html.escape(names.get(m.group(2), m.group(2)), quote=True)}"'

    return tuple(_SRC_RE.sub(swap, f) if "<img" in f else f for f in fields)


_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=)"([^"]*)"')


def locate(text_lines: list[tuple[int, str]], src: str) -> tuple[int, int | None]:
    """(line, column) of the image `src` in a card's source lines [(line, text)], or (0, None)."""
    ref = written(src)
    wanted = {src, ref, html.unescape(src), src.replace(" ", "%20")}
    for line, text in text_lines:
        for w in wanted:
            at = text.find(w) if w else -1
            if at >= 0:
                return line, at + 1
    return 0, None
