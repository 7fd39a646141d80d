"""A big collection is deflated in 1 MiB chunks on several threads, reusing chunks deflated by the last build."""

from __future__ import annotations

import random
import zipfile
import zlib

from flashdeck import package
from flashdeck.package import CHUNK, ParallelDeflate


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


def _deflate(data: bytes, **kwargs) -> bytes:
    co = ParallelDeflate(**kwargs)
    out = []
    for i in range(0, len(data), 300_000):  # zipfile feeds blocks of its own size
        out.append(co.compress(data[i : i + 300_000]))
    out.append(co.flush())
    return b"".join(out)


class Store:
    def __init__(self):
        self.entries = {}
        self.hits = 0

    def get(self, k):
        value = self.entries.get(k)
        self.hits += value is not None
        return value

    def put(self, k, value):
        self.entries[k] = value


def test_chunks_join_into_one_deflate_stream_whatever_the_thread_count():
    data = _collection_like(3 * CHUNK + 12345)
    one = _deflate(data, threads=1)
    assert zlib.decompress(one, -15) == data
    assert _deflate(data, threads=3) == one
    assert len(one) < len(data) / 3


def test_unchanged_chunks_come_from_the_cache_with_the_same_bytes():
    data = bytearray(_collection_like(4 * CHUNK))
    store = Store()
    first = _deflate(bytes(data), store=store)
    assert len(store.entries) == 4 and store.hits == 0
    data[2 * CHUNK + 10 : 2 * CHUNK + 15] = b"EDIT!"  # one card edited in the third chunk
    second = _deflate(bytes(data), store=store)
    # The third chunk is new; the fourth is primed with the edited third's tail only
    # when the edit is within its last 32 KiB, which this one is not.
    assert store.hits == 3
    assert second == _deflate(bytes(data))
    assert zlib.decompress(second, -15) == bytes(data)
    assert first != second


def test_a_damaged_cached_chunk_is_deflated_again():
    data = _collection_like(2 * CHUNK + 5)
    store = Store()
    good = _deflate(data, store=store)
    for k, (out, crc) in list(store.entries.items()):
        store.entries[k] = (out[:-3] + b"xyz", crc)
    assert _deflate(data, store=store) == good


def test_a_big_collection_is_stored_as_a_zip_entry_anyone_can_read(tmp_path):
    data = _collection_like(2 * CHUNK + 777)
    src = tmp_path / "collection.anki2"
    src.write_bytes(data)
    target = tmp_path / "out.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        package._add(zf, "collection.anki2", src, package.ZIP_EPOCH)
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert zf.read("collection.anki2") == data
        assert zf.getinfo("collection.anki2").compress_size < len(data) / 3
