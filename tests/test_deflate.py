"""A big collection is deflated in 256 KiB chunks that join into one stream; a rebuild reuses unchanged chunks."""

from __future__ import annotations

import random
import zipfile
import zlib

from flashdeck import package
from flashdeck.deflate import CHUNK, ChunkedDeflate
from flashdeck.package import Written


def _collection_like(size: int) -> bytes:
    """Text that compresses like note HTML: words from a small vocabulary, with markup."""
    rng = random.Random(3)
    words = "renal tubule magnesium <em>potassium</em> calcium <code>sodium</code> chloride loop".split()
    out = []
    n = 0
    while n < size:
        w = rng.choice(words) + (" " if rng.random() < 0.9 else "</p>\n<p>")
        out.append(w)
        n += len(w)
    return "".join(out).encode()[:size]


def _deflate(data: bytes, store=None) -> tuple[bytes, ChunkedDeflate]:
    co = ChunkedDeflate(store)
    out = []
    for i in range(0, len(data), 300_000):  # zipfile feeds blocks of its own size
        out.append(co.compress(data[i : i + 300_000]))
    out.append(co.flush())
    return b"".join(out), co


class Store:
    """What ChunkedDeflate asks of a store.Store."""

    def __init__(self):
        self.entries = {}

    def get(self, k):
        return self.entries.get(k)

    def put_value(self, k, value):
        self.entries[k] = value


def test_chunks_join_into_one_deflate_stream():
    data = _collection_like(3 * CHUNK + 12345)
    out, co = _deflate(data)
    assert zlib.decompress(out, -15) == data
    assert (co.deflated, co.reused) == (4, 0)
    assert len(out) < len(data) / 3


def test_unchanged_chunks_come_from_the_cache_with_the_same_bytes():
    data = bytearray(_collection_like(4 * CHUNK))
    store = Store()
    first, co = _deflate(bytes(data), store)
    assert (len(store.entries), co.reused) == (4, 0)
    data[2 * CHUNK + 10 : 2 * CHUNK + 15] = b"EDIT!"  # one card edited in the third chunk
    second, co = _deflate(bytes(data), store)
    # The third chunk is new; the fourth is primed with the edited third's tail only
    # when the edit is within its last 32 KiB, which this one is not.
    assert (co.deflated, co.reused) == (1, 3)
    assert second == _deflate(bytes(data))[0]
    assert zlib.decompress(second, -15) == bytes(data)
    assert first != second


def test_a_big_collection_is_a_zip_entry_anyone_can_read_and_says_how_it_was_deflated(tmp_path):
    data = _collection_like(2 * CHUNK + 777)
    src = tmp_path / "collection.anki2"
    src.write_bytes(data)
    target = tmp_path / "out.zip"
    written = Written()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        package._add(zf, "collection.anki2", src, package.ZIP_EPOCH, Store(), b"", written)
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert zf.read("collection.anki2") == data
        assert zf.getinfo("collection.anki2").compress_size < len(data) / 3
    assert (written.deflate, written.chunks_deflated, written.chunks_reused) == ("chunked", 3, 0)
