"""Write a deterministic synthetic corpus of N flashdeck cards (the benchmark's input).

The mix follows issue 7: plain and multiple-choice cards; explanations of about
60 words with emphasis, a link, a list and inline code; a formula in one card
of ten; an image in one card of fifty; 50 cards a file. The same N and seed
always give the same bytes.

    python bench/corpus.py 10000 bench/out/corpus            # one deck
    python bench/corpus.py 10000 bench/out/corpus --subdecks  # each file its own subdeck
    python bench/corpus.py 10000 bench/out/corpus --layout file  # all in one file
"""

from __future__ import annotations

import argparse
import random
import struct
import zlib
from pathlib import Path

CARDS_PER_FILE = 50
PACKAGE = "bench"
"""Every file goes under cards/bench/, so the corpus builds into one bench.apkg."""
IMAGES = 10

WORDS = (
    "renal tubule magnesium potassium calcium sodium chloride filtration reabsorption "
    "secretion loop diuretic thiazide aldosterone hormone parathyroid vitamin deficiency "
    "serum plasma urine excretion channel transporter gradient epithelium cortex medulla "
    "collecting duct nephron glomerulus clearance acid base bicarbonate phosphate "
    "arrhythmia tetany seizure weakness cramp alcohol diarrhoea malabsorption proton pump "
    "inhibitor cisplatin amphotericin tacrolimus insulin refeeding pancreatitis dose oral "
    "intravenous infusion replacement monitoring level threshold symptom sign cause effect"
).split()
LINKS = ("https://pubmed.ncbi.nlm.nih.gov/{n}/", "https://en.wikipedia.org/wiki/Topic_{n}")
FORMULAS = (
    "$\\text{FE}_{Mg} = \\frac{U_{Mg} \\times P_{Cr}}{0.7 \\times P_{Mg} \\times U_{Cr}} \\times 100$",
    "$$\\Delta G = \\Delta H - T\\Delta S$$",
    "$c = \\sqrt{a^2 + b^2}$",
)


def words(rng: random.Random, n: int, pool: tuple[str, ...] | list[str] = WORDS) -> str:
    return " ".join(rng.choice(pool) for _ in range(n))


def sentence(rng: random.Random, n: int, pool: tuple[str, ...] | list[str] = WORDS) -> str:
    s = words(rng, n, pool)
    return s[0].upper() + s[1:] + "."


def explanation(rng: random.Random, k: int) -> str:
    """About 60 words: emphasis, inline code, a link and a short list."""
    link = rng.choice(LINKS).format(n=10_000_000 + k)
    return (
        f"{sentence(rng, 9)} The *{words(rng, 2)}* is **{words(rng, 1)}**, see `{rng.choice(WORDS)}_{k % 97}` "
        f"and [{words(rng, 2)}]({link}). {sentence(rng, 10)}\n\n"
        f"- {sentence(rng, 6)}\n- {sentence(rng, 6)}\n- {sentence(rng, 5)}\n\n"
        f"{sentence(rng, 12)}"
    )


def card(rng: random.Random, k: int) -> str:
    title = sentence(rng, 4)[:-1]
    question = sentence(rng, 12)[:-1] + "?"
    if k % 10 == 3:
        question += " " + FORMULAS[(k // 10) % len(FORMULAS)]
    if k % 50 == 7:
        question += f"\n\n![figure {k}](img/figure-{(k // 50) % IMAGES}.png)"
    lines = [f"## {title} {{#c{k:06d}}}", question, ""]
    # Answers and options in words the question does not use, options of one length: a sound
    # item, as real decks hold, so the item-writing checks run on every card but warn on none.
    rest = [w for w in WORDS if w not in question.lower()]
    if k % 2:
        correct = rng.randrange(4)
        options = [sentence(rng, 3, rest)[:-1] for _ in range(4)]
        while True:
            if len({frozenset(o.lower().split()) for o in options}) < 4:
                # Two options of the same words (8 cards in 100,000) are a duplicate-options warning: draw
                # the four again. Drawn only then, so the corpora that had none are the same as before.
                options = [sentence(rng, 3, rest)[:-1] for _ in range(4)]
            elif len(options[correct]) >= 1.5 * max(len(o) for i, o in enumerate(options) if i != correct):
                options[correct] = sentence(rng, 3, rest)[:-1]  # (not the one clearly longest)
            else:
                break
        for i, option in enumerate(options):
            lines.append(f"- [{'x' if i == correct else ' '}] {option}")
    else:
        lines += ["### Answer", sentence(rng, rng.randint(3, 12), rest)]
    lines += ["", "### Explanation", explanation(rng, k), ""]
    if k % 5 == 0:
        lines += ["### References", f"- <https://pubmed.ncbi.nlm.nih.gov/{20_000_000 + k}/>", ""]
    if k % 4 == 0:
        lines += [f"Tags: topic-{k % 13}, bench", ""]
    return "\n".join(lines) + "\n"


def png(seed: int) -> bytes:
    """A tiny valid 4x4 grey PNG whose shade depends on `seed`."""
    raw = b"".join(b"\x00" + bytes([seed * 20 % 256]) * 4 for _ in range(4))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def file_name(n: int) -> str:
    return f"part-{n:04d}.md"


LAYOUTS = ("folder", "files", "file")
"""How the same cards are laid out (issue 10): 50 a file in one folder (one package); 50 a file at
the top level (one package each); or all in one file."""


def generate(n: int, root: Path, subdecks: bool = False, seed: int = 7, layout: str = "folder") -> Path:
    """Write N cards under `root`/cards/ in `layout` and return the cards folder.

    The cards' text is the same in every layout: only where they are written differs.
    """
    cards = Path(root) / "cards"
    folder = cards / PACKAGE if layout == "folder" else cards
    (folder / "img").mkdir(parents=True, exist_ok=True)
    for i in range(IMAGES):
        (folder / "img" / f"figure-{i}.png").write_bytes(png(i))
    rng = random.Random(seed)
    parts = []
    for f, start in enumerate(range(0, n, CARDS_PER_FILE)):
        deck = f"Bench::Topic {f:04d}" if subdecks else "Bench"
        head = f"---\ndeck: {deck}\ntags: [bench]\n---\n"
        body = [card(rng, k) for k in range(start, min(n, start + CARDS_PER_FILE))]
        if layout == "file":
            parts += body
        else:
            (folder / file_name(f)).write_text("\n".join([head, *body]), encoding="utf-8")
    if layout == "file":
        (folder / f"{PACKAGE}.md").write_text("\n".join(["---\ndeck: Bench\ntags: [bench]\n---\n", *parts]), encoding="utf-8")
    return cards


def edit_one_card(cards: Path) -> Path:
    """Change one word in the explanation of the middle card (the 'one-card edit'), whatever the layout.

    Done on the bytes, and the file written on from the edit: as text, the 87 MB file of 100,000
    cards and its slices, joined copy and encoded copy were about 260 MB at once, inside the
    --watch session being measured.
    """
    files = sorted(p for p in cards.rglob("*.md"))
    marker = b"### Explanation\n"
    if len(files) == 1:
        path = files[0]
        data = path.read_bytes()
        at = -1
        for _ in range(data.count(marker) // 2 + 1):
            at = data.index(marker, at + 1)
        i = at + len(marker)
    else:
        path = files[len(files) // 2]
        data = path.read_bytes()
        i = data.index(marker) + len(marker)
    with open(path, "r+b") as f:
        f.seek(i)
        f.write(b"Edited. ")
        f.write(memoryview(data)[i:])
    return path


def ankdown(cards: Path, out: Path) -> Path:
    """The same cards in ankdown's format (front, `%`, back; cards between `---` lines), one file per card file."""
    import re
    import shutil

    out.mkdir(parents=True, exist_ok=True)
    for img in cards.rglob("img"):  # the figures, where the cards point at them
        shutil.copytree(img, out / "img", dirs_exist_ok=True)
    heading = re.compile(r"^## .*$", re.M)
    for k, path in enumerate(sorted(cards.rglob("*.md"))):
        text = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        blocks = [b for b in heading.split(text) if b.strip()]
        notes = []
        for block in blocks:
            tags = re.findall(r"^Tags: (.*)$", block, re.M)
            block = re.sub(r"^Tags: .*$", "", block, flags=re.M)
            front, _, back = block.partition("### ")
            notes.append(f"{front.strip()}\n\n%\n\n### {back.strip()}\n\n%\n\n{tags[0] if tags else ''}\n")
        (out / f"deck-{k:04d}.md").write_text("\n---\n\n".join(notes), encoding="utf-8")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("root", type=Path)
    p.add_argument("--subdecks", action="store_true", help="give each file its own subdeck")
    p.add_argument("--layout", choices=LAYOUTS, default="folder", help="folder (default), files (each a package) or file (one file)")
    args = p.parse_args()
    print(generate(args.n, args.root, args.subdecks, layout=args.layout))


if __name__ == "__main__":
    main()
