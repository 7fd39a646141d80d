"""Suggested ids (README "Ids"): readable for headings in any script, never one already taken.

Ids may only use ASCII letters, digits, '-' and '_', so a Cyrillic, Greek or Chinese
heading is transliterated; a heading with nothing to transliterate gets `card-` and the
first 8 hex digits of the SHA-256 of its text.
"""

from __future__ import annotations

import hashlib

from flashdeck.cli import main

BODY = "Q?\n### Answer\nA\n### Explanation\nE\n"


def hashed(heading: str) -> str:
    return "card-" + hashlib.sha256(heading.encode("utf-8")).hexdigest()[:8]


def test_ids_write_transliterates_headings_and_hashes_the_rest(fixture_cards, monkeypatch, capsys):
    cards = fixture_cards("ids/non_ascii_headings.md")
    monkeypatch.chdir(cards.parent)
    assert main(["ids", "cards", "--write"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "cards/non_ascii_headings.md:1: added id 'gipomagniemiya'",
        "cards/non_ascii_headings.md:8: added id 'gipomagniemiya-2'",
        "cards/non_ascii_headings.md:15: added id 'di-mei-xue-zheng'",
        "cards/non_ascii_headings.md:22: added id 'ellinika'",
        f"cards/non_ascii_headings.md:29: added id '{hashed('???')}'",
        f"cards/non_ascii_headings.md:36: added id '{hashed('!!!')}'",
    ]
    headings = [line for line in (cards / "non_ascii_headings.md").read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert headings == [
        "## Гипомагниемия {#gipomagniemiya}",
        "## Гипомагниемия {#gipomagniemiya-2}",
        "## 低镁血症 {#di-mei-xue-zheng}",
        "## Ελληνικά {#ellinika}",
        f"## ??? {{#{hashed('???')}}}",
        f"## !!! {{#{hashed('!!!')}}}",
    ]
    assert main(["check", "cards"]) == 0


def test_ids_never_suggests_an_id_used_in_another_file_or_retired(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "old.md").write_text("## Гипомагниемия {#gipomagniemiya}\n" + BODY, encoding="utf-8")
    (cards / "other.md").write_text("## Магний {#magniy}\n" + BODY, encoding="utf-8")
    assert main(["build", "cards", "--out", "dist"]) == 0
    (cards / "old.md").unlink()  # its card is retired: the lock keeps its id
    assert main(["build", "cards", "--out", "dist"]) == 0
    (cards / "new.md").write_text("## Гипомагниемия\n" + BODY + "\n## Магний\n" + BODY, encoding="utf-8")
    capsys.readouterr()
    assert main(["ids", "cards"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "cards/new.md:1: would add id 'gipomagniemiya-2'",
        "cards/new.md:8: would add id 'magniy-2'",
    ]


def test_invalid_id_message_suggests_a_readable_id_no_other_card_of_the_file_has(fixture_cards, monkeypatch, capsys):
    cards = fixture_cards("ids/invalid_non_ascii_ids.md")
    monkeypatch.chdir(cards.parent)
    assert main(["check", "cards"]) == 1
    rule = "may only use letters, digits, '-' and '_'"
    assert capsys.readouterr().err.splitlines() == [
        f"cards/invalid_non_ascii_ids.md:1:18: error: card 'Низкий магний': id 'низкий магний' {rule}: write it as '{{#nizkiy-magniy}}'",
        f"cards/invalid_non_ascii_ids.md:8:7: error: card '低镁': id '低镁' {rule}: write it as '{{#di-mei}}'",
        f"cards/invalid_non_ascii_ids.md:15:7: error: card '高镁': id '高镁' {rule}: write it as '{{#gao-mei}}'",
        f"cards/invalid_non_ascii_ids.md:29:17: error: card 'Normal again': id 'normal mg' {rule}: write it as '{{#normal-mg-2}}'",
        f"cards/invalid_non_ascii_ids.md:36:8: error: card '???': id '!!!' {rule}: write it as '{{#{hashed('???')}}}'",
        "5 errors, 0 warnings",
    ]
