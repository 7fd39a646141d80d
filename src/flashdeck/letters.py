"""Find places where an explanation names an option by its letter.

A shuffled card (`shuffle: true`, `<!-- flashdeck: shuffle -->`) shows its
options in a new order at every review, and the letters follow the shown
order; "option B is wrong" then points at whatever happens to be second. So
`check` warns about such references on shuffled cards (issue 12).

The rules look for a letter in a place only an option letter fits: after
"option", "choice", "answer" …, in parentheses, or before "is wrong",
"are correct" …. Letters that name things in medicine ("vitamin A",
"type B", "hepatitis C", "Na+/K+", "HLA-B", "E. coli", "P(A)") are not
references, and an uppercase "I" is only taken where it cannot be the pronoun.
Code spans, fenced code and math are skipped. A line is scanned in time
linear in its length: a shared deck may hold anything, and `check` must not
hang on it.
"""

from __future__ import annotations

import re

_LETTER = r"[A-Z]"
# "A", "A and B", "A, B or D", "A-C", "A–C", "A through C"
_LIST = rf"{_LETTER}(?:(?:\s*,\s*|\s*/\s*|\s+(?:and|or|&|to|through)\s+|\s*[-\u2013]\s*){_LETTER})*"
_END = r"(?![\w+\-/])"  # not "B12", "K+", "HLA-B-27", "A/B testing"
_NOUN = r"(?:options?|choices?|alternatives?|distractors?|answers?|responses?|letters?)"

_AFTER_NOUN = re.compile(
    rf"\b(?i:{_NOUN})\s+(?:\(\s*)?(?P<letters>{_LIST})(?:\s*\))?{_END}"
)
# "option b": authors who write letters in lower case. Not after "answer": "answer a question".
_AFTER_NOUN_LOWER = re.compile(
    rf"\b(?i:options?|choices?|alternatives?|distractors?)\s+(?:\(\s*)?(?P<letters>[a-h])(?:\s*\))?{_END}"
)
# "the answer is C", "the correct option was (B)", "the key is D"
_NOUN_IS = re.compile(
    rf"\b(?i:answer|option|choice|key)\s+(?i:is|was)\s+(?:\(\s*)?(?P<letters>{_LETTER})(?:\s*\))?{_END}"
)
# "(B)" on its own: not "P(A)", "2(B)", "f (X)" in math (masked), "(A)" after "type" …
_PAREN = re.compile(rf"(?<![\w)\]])\((?P<letters>{_LETTER})\){_END}")
# "A and B are wrong", "C is correct", "D is the answer", "E is not the best": found from the
# verb on, then the letters are looked for in a bounded stretch before it, so that a long
# run of "A and B and …" is not rescanned from every letter.
_VERDICT_TAIL = re.compile(
    r"\s+(?i:is|are|was|were)\s+(?i:not\s+)?(?i:the\s+)?(?i:only\s+)?"
    r"(?i:correct|incorrect|wrong|right|true|false|best|worst|answer|key|distractors?)\b"
)
_VERDICT_HEAD = re.compile(rf"(?<![\w+\-/.])(?P<letters>{_LIST})\Z")
_HEAD_SPAN = 60
"""How far before "is wrong" the letters may start."""
# "B) …" or "C: …" starting a line (an explanation that walks through the options).
# "A. …" is left out: "E. coli", "A. Smith".
_LINE_START = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*)?(?P<ref>(?P<letters>[A-H])[):])(?:\*\*)?[ \t]")

_QUALIFIERS = frozenset(
    """vitamin vitamins type types subtype serotype serogroup genotype hepatitis group groups class
    grade stage phase factor protein complex hemophilia haemophilia zone band lane panel panels figure
    fig table box schedule category strain cluster pattern plan appendix chapter section part step
    site level chain ring wave point region domain isoform form blood list tier rank plasmodium
    hydrogen boron carbon nitrogen oxygen fluorine phosphorus sulfur sulphur potassium vanadium iodine
    alanine cysteine aspartate glutamate phenylalanine glycine histidine""".split()
)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?[ \t]*\(?[ \t]*$")
_LOOK_BACK = 40
"""How far before a letter `_qualified` looks: a bound keeps a long line linear."""
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_DELIMITER = re.compile(r"`+|\$\$|\$|\\[(\[]|\\[)\]]")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def letter_references(text: str) -> list[tuple[int, int, str]]:
    """Where `text` (Markdown) refers to an option by its letter.

    Returns (0-based line offset in `text`, 1-based column, the matched text)
    for each reference, in reading order.
    """
    found: list[tuple[int, int, str]] = []
    fence: str | None = None
    for offset, line in enumerate(text.split("\n")):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        masked = _mask(line)
        spans: list[tuple[int, int]] = []
        for pattern in (_AFTER_NOUN, _AFTER_NOUN_LOWER, _NOUN_IS, _VERDICT_TAIL, _PAREN, _LINE_START):
            for hit in pattern.finditer(masked):
                if pattern is _VERDICT_TAIL:
                    head_at = max(0, hit.start() - _HEAD_SPAN)
                    head = _VERDICT_HEAD.search(masked, head_at, hit.start())
                    if head is None:
                        continue
                    letters, letters_at, (start, end) = head.group("letters"), head.start(), (head.start(), hit.end())
                else:
                    ref = "ref" if "ref" in pattern.groupindex else 0
                    letters, letters_at, (start, end) = hit.group("letters"), hit.start("letters"), hit.span(ref)
                if pattern in (_VERDICT_TAIL, _PAREN) and _qualified(masked, letters_at):
                    continue  # "vitamin A is …", "type (B)"
                if letters == "I" and "(" not in masked[start:end]:
                    continue  # the pronoun: "the answer I chose", "I was wrong"
                if any(s <= start < e or start <= s < end for s, e in spans):
                    continue  # one reference, found by two rules
                spans.append((start, end))
        for start, end in sorted(spans):
            found.append((offset, start + 1, line[start:end].strip()))
    return found


def shuffle_warning(label: str, text: str) -> tuple[int, int, str] | None:
    """The `check` warning for a shuffled card whose explanation `text` names options by letter.

    Returns (0-based line offset of the first reference, its column, message
    without the location) or None. `label` names the card ("card 'mg-site'").
    """
    refs = letter_references(text)
    if not refs:
        return None
    quoted = ", ".join(f"'{m}'" for m in dict.fromkeys(m for _, _, m in refs))
    message = (
        f"{label}: the explanation refers to option letters ({quoted}), but the options are shuffled, "
        "so the letters change at each review: name the option by its text instead"
    )
    return refs[0][0], refs[0][1], message


def _mask(line: str) -> str:
    """`line` with code spans and math blanked out, columns kept.

    One pass over the delimiters: a code span ends at the next backtick run of
    its length, math at its closing delimiter; an opener with no closer later in
    the line is text.
    """
    tokens = [(m.start(), m.end(), m.group(0)) for m in _DELIMITER.finditer(line)]
    last: dict[str, int] = {}
    for k, (_, _, tok) in enumerate(tokens):
        last[tok] = k
    out = list(line)
    k = 0
    while k < len(tokens):
        start, _, tok = tokens[k]
        closer = tok if tok.startswith("`") else _CLOSER.get(tok)
        if closer is None or last.get(closer, -1) <= k:
            k += 1
            continue
        j = k + 1
        while tokens[j][2] != closer:
            j += 1
        end = tokens[j][1]
        out[start:end] = " " * (end - start)
        k = j + 1
    return "".join(out)


def _qualified(line: str, at: int) -> bool:
    """Whether the letter at `at` follows a word that makes it a name ("vitamin A", "type (B)")."""
    m = _WORD_BEFORE.search(line[max(0, at - _LOOK_BACK) : at])
    return bool(m) and m.group(1).lower() in _QUALIFIERS
