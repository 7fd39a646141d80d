"""Many small packages are made in worker processes and still ship the bytes made one by one.

From plan.PARALLEL_PACKAGES changed packages, each small package is made by
package.make in the session's workers and its bytes written here in order.
The tests compare that with the packages made one after another in this
process, and check that a failure in a worker keeps every old package and
leaves no temp file. They reach inside (plan.PARALLEL_PACKAGES,
plan.made_apart) because both paths must be run on the same cards, and a
build that quietly took the old path would pass the comparison.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flashdeck import api, executor, package, plan

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2e1f9a20000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def write_files(cards: Path, n: int, word: str = "rule") -> None:
    """`n` top-level card files (one package each) of three cards; every fourth shows an image, every fifth is a cloze."""
    cards.mkdir(exist_ok=True)
    (cards / "img").mkdir(exist_ok=True)
    (cards / "img" / "dot.png").write_bytes(PNG)
    for f in range(n):
        text = f"---\ndeck: Many::Part {f}\n---\n"
        for i in range(3):
            k = 3 * f + i
            if k % 5 == 0:
                text += f"## Cloze {k} {{#c-{k}}}\nItem {k} holds {{{{c1::part {k}}}}}.\n\n### Explanation\nBy {word} {k}.\n\n"
            else:
                shown = "\n\n![a dot](img/dot.png)" if f % 4 == 0 and i == 0 else ""
                text += f"## Card {k} {{#q-{k}}}\nWhat is item {k}?{shown}\n\n### Answer\nValue {k}.\n\n### Explanation\nBy {word} {k}.\n\nTags: t{k % 3}\n\n"
        (cards / f"part-{f:03d}.md").write_text(text, encoding="utf-8")


def packages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.apkg"))}


@pytest.fixture
def apart(monkeypatch):
    """Records whether each build made its packages in workers."""
    seen: list[bool] = []
    real = plan.made_apart

    def spy(*args):
        made = real(*args)
        seen.append(made is not None)
        return made

    monkeypatch.setattr(plan, "made_apart", spy)
    return seen


def test_packages_made_in_workers_are_the_bytes_made_one_by_one(tmp_path, monkeypatch, apart):
    n = plan.PARALLEL_PACKAGES + 4
    write_files(tmp_path / "cards", n)
    lock = tmp_path / "cards" / "flashdeck.lock"

    api.build(tmp_path / "cards", tmp_path / "apart", use_cache=False)
    made_apart = packages(tmp_path / "apart")
    written_lock = lock.read_bytes()
    monkeypatch.setattr(plan, "PARALLEL_PACKAGES", 10**9)
    api.build(tmp_path / "cards", tmp_path / "here", use_cache=False)

    assert apart == [True, False]
    assert len(made_apart) == n
    assert made_apart == packages(tmp_path / "here")
    assert lock.read_bytes() == written_lock


def test_an_edit_that_changes_many_packages_rewrites_them_in_workers(tmp_path, apart):
    cards = tmp_path / "cards"
    write_files(cards, plan.PARALLEL_PACKAGES)
    api.build(cards, tmp_path / "dist")
    write_files(cards, plan.PARALLEL_PACKAGES, word="law")
    report = api.build(cards, tmp_path / "dist")
    rebuilt = packages(tmp_path / "dist")
    api.build(cards, tmp_path / "cold", use_cache=False)

    assert apart == [True, True, True]
    assert not any(r.unchanged for r in report.packages)
    assert rebuilt == packages(tmp_path / "cold")


def explode(job):
    """package.make for the test below: the sixth package fails (inherited by forked workers)."""
    if "Many::Part 5" in job.decks:
        raise OSError(28, "No space left on device")
    return _real_make(job)


_real_make = package.make


def test_a_failure_in_a_worker_keeps_every_old_package_and_leaves_no_temp_file(tmp_path, monkeypatch, apart):
    if executor._context().get_start_method() != "fork":  # (a spawned worker imports package.make afresh, unpatched)
        pytest.skip("the failing package.make reaches the workers only by fork")
    cards, out = tmp_path / "cards", tmp_path / "dist"
    write_files(cards, plan.PARALLEL_PACKAGES + 2)
    api.build(cards, out)
    before, lock = packages(out), (cards / "flashdeck.lock").read_bytes()
    write_files(cards, plan.PARALLEL_PACKAGES + 2, word="law")
    monkeypatch.setattr(package, "make", explode)

    with pytest.raises(api.CardError, match="No space left on device"):
        api.build(cards, out)

    assert apart == [True, True]
    assert packages(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before)
    assert (cards / "flashdeck.lock").read_bytes() == lock


def test_a_dry_run_of_many_changed_packages_makes_none(tmp_path, apart):
    write_files(tmp_path / "cards", plan.PARALLEL_PACKAGES + 1)
    report = api.build(tmp_path / "cards", tmp_path / "dist", dry_run=True)

    assert apart == []  # (not even started: making them would import genanki and fork the workers for nothing)
    assert len(report.packages) == plan.PARALLEL_PACKAGES + 1
    assert not (tmp_path / "dist").exists()
