"""A big collection is deflated in 256 KiB chunks that join into one stream; a rebuild reuses unchanged chunks."""

from __future__ import annotations

import random
import threading
import time
import zipfile
import zlib
from concurrent.futures import Future

import pytest

from flashdeck import api, executor, package
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


def _deflate(data: bytes, store=None, pool=None) -> tuple[bytes, ChunkedDeflate]:
    co = ChunkedDeflate(store, pool=pool)
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


@pytest.mark.parametrize("block", [7, 100_000, CHUNK, CHUNK + 1, 4 * CHUNK])
def test_the_stream_does_not_depend_on_how_its_bytes_are_handed_over(block):
    """zipfile hands the collection over in blocks of its caller's size; chunks are cut across them."""
    data = _collection_like(3 * CHUNK + 999)
    whole = ChunkedDeflate()
    expected = whole.compress(data) + whole.flush()
    co = ChunkedDeflate()
    out = b"".join(co.compress(data[i : i + block]) for i in range(0, len(data), block)) + co.flush()
    assert out == expected
    assert zlib.decompress(out, -15) == data


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
        # Reaching inside on purpose: the chunked writer on a file of a chosen size, without a build around it.
        package._add(zf, "collection.anki2", src, package.ZIP_EPOCH, Store(), b"", written)
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert zf.read("collection.anki2") == data
        assert zf.getinfo("collection.anki2").compress_size < len(data) / 3
    assert (written.deflate, written.chunks_deflated, written.chunks_reused) == ("chunked", 3, 0)


class Jumbled:
    """An executor.Processes stand-in whose work finishes in another order than it was given."""

    workers = 2

    def __init__(self):
        self.given = 0

    def submit(self, fn, *args) -> Future:
        self.given += 1
        done: Future = Future()
        delay = random.Random(self.given).random() / 50

        def later():
            time.sleep(delay)
            done.set_result(fn(*args))

        threading.Thread(target=later).start()
        return done


def test_chunks_deflated_in_workers_are_the_same_stream_and_cache_entries():
    data = bytearray(_collection_like(9 * CHUNK + 4321))
    alone, here = Store(), Store()
    serial, _ = _deflate(bytes(data), here)
    pool = executor.Processes(2)
    try:
        apart, co = _deflate(bytes(data), alone, pool)
        assert (co.deflated, co.reused) == (10, 0)
        assert apart == serial
        assert alone.entries == here.entries
        data[5 * CHUNK + 99 : 5 * CHUNK + 104] = b"EDIT!"
        again, co = _deflate(bytes(data), alone, pool)
    finally:
        pool.close()
    assert (co.deflated, co.reused) == (1, 9)
    assert again == _deflate(bytes(data))[0]


def test_chunks_that_finish_out_of_order_are_given_back_in_order():
    data = _collection_like(12 * CHUNK + 5)
    pool = Jumbled()
    out, co = _deflate(data, Store(), pool)
    assert pool.given == co.deflated == 13
    assert out == _deflate(data)[0]
    assert zlib.decompress(out, -15) == data


def test_a_cold_build_that_renders_in_workers_deflates_there_the_same_package(tmp_path, monkeypatch):
    # Reaches inside (executor.worth_workers, Processes.submit): both ways must run on the same
    # cards, and a build that quietly deflated here would pass the comparison.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    cards.mkdir()
    body = " ".join(f"word{i % 97}" for i in range(120))
    text = "".join(f"## Card {i} {{#d-{i}}}\nWhat is item {i}?\n\n### Answer\nValue {i}.\n\n### Explanation\n{body} {i}.\n\n" for i in range(500))
    (cards / "big.md").write_text(text, encoding="utf-8")
    sent = []
    real_submit = executor.Processes.submit

    def counted(self, fn, *args):
        sent.append(fn.__name__)
        return real_submit(self, fn, *args)

    monkeypatch.setattr(executor.Processes, "submit", counted)
    api.build(cards, tmp_path / "apart", use_cache=False)
    assert sent.count("deflate_chunk") >= 3, sent[-5:]
    monkeypatch.setattr(executor, "worth_workers", lambda *args: False)
    sent.clear()
    api.build(cards, tmp_path / "here", use_cache=False)
    assert sent == []
    assert (tmp_path / "apart" / "big.apkg").read_bytes() == (tmp_path / "here" / "big.apkg").read_bytes()
