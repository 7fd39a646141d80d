"""What the item-writing checks know of English and of medical writing (itemcheck.py).

When two options mean the same (synonyms, spellings, word order) or only look alike
(numbers, codes, opposites such as hypo-/hyper-), how much of an answer a question already
holds, which article an option takes (an MRI, a UTI, an 8-year-old), and whether a
lead-in asks for a negative.
"""

from __future__ import annotations

import difflib
import re

from . import itemtext as tx

_INNER_HYPHEN = re.compile(r"-(?=.)")
_CORE_END = re.compile(r"[,;:(\u2014\u2013]")

_SYNONYMS = {
    # The stems of "increase" and "decrease", so that _CONTRASTS sees low / high ferritin as opposites.
    **dict.fromkeys("raised elevated increased increase increases high rise rising raise".split(), "increas"),
    **dict.fromkeys("reduced decreased decrease decreases lowered low diminished reduction fall falling".split(), "decreas"),
}
_SMALL = frozenset("a an the of in on at to for from by with and or as via its their".split())
_NEGATORS = frozenset("no non not without absent absence un".split())
_CONTRASTS = [
    frozenset(s.split()) for s in (
        "increas decreas", "left right", "upper lower", "anterior posterior", "medial later", "proxim distal",
        "superior inferior", "intern extern", "acut chronic subacut", "primari secondari tertiari", "central peripher",
        "agonist antagonist", "afferent efferent", "systol diastol", "posit negat", "domin recess", "benign malign",
        "inspiratori expiratori", "activ passiv", "direct indirect", "gain loss", "earli late", "total partial",
        "complet incomplet", "inhibit activ stimul", "excess defici", "unilater bilater", "sensori motor",
        "arteri venous", "oral intraven intramuscular subcutan topic inhal", "male femal", "maternal patern",
        "dorsal ventral", "high low", "major minor", "ipsilater contralater",
    )
]
# Prefixes that turn a word into its opposite or a different quantity: hypokalemia is not hyperkalemia.
_PREFIXES = [
    frozenset(s.split(",")) for s in (
        "hyper,hypo,normo,eu", "in,de", "intra,extra,inter,trans", "pre,post,ante,peri", "endo,exo,ecto", "ab,ad",
        "hetero,homo", "micro,macro", "mono,poly,bi,uni,tri,di,multi", "over,under", "sub,supra", "anti,pro",
        "brady,tachy", "oligo,poly,an", "ortho,para", "iso,aniso",
        ",a", ",an", ",non", ",un", ",in", ",im", ",ir", ",il", ",dis", ",de", ",anti", ",pseudo",
    )
]


def option_words(text: tx.Text) -> list[tx.Word]:
    """The words that say what an option means: small words dropped, synonyms merged, codes unhyphenated."""
    out = []
    for w in tx.words(text):
        low = w.text.lower()
        if low in _SMALL:
            continue
        if w.kind == "word" and low in _SYNONYMS:
            w = tx.Word(w.text, w.start, _SYNONYMS[low], "word")
        elif w.kind == "code":
            w = tx.Word(w.text, w.start, _INNER_HYPHEN.sub("", w.key), "code")  # TRPM-6 = TRPM6, but Cl- stays
        out.append(w)
    return out


def squashed(text: tx.Text) -> str:
    """The option's words run together: Na+/K+-ATPase = Na+-K+-ATPase, Claudin-16 = Claudin 16, but Cl- is not Cl."""
    return "".join([tx.respell(w.text.lower()) for w in tx.words(text)])  # (words: TOKEN's matches, already found)


def contrast(a: tx.Word, b: tx.Word) -> bool:
    """True when the two words are opposites or rungs of one scale (left/right, hypo-/hyper-, typical/atypical)."""
    if any(a.key in c and b.key in c for c in _CONTRASTS):
        return True
    x, y = tx.respell(a.text.lower()), tx.respell(b.text.lower())
    return any(
        x.startswith(p) and y.startswith(q) and len(x) - len(p) >= 3 and x[len(p) :] == y[len(q) :]
        for family in _PREFIXES
        for p in family
        for q in family
        if p != q
    )


def differ(a: list[tx.Word], b: list[tx.Word]) -> bool:
    """True when a guard says two similar options mean different things."""
    ops = difflib.SequenceMatcher(None, [w.key for w in a], [w.key for w in b], autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        changed = a[i1:i2] + b[j1:j2]
        if any(w.text.lower() in _NEGATORS for w in changed):
            return True
        if tag == "replace":
            if any(w.kind != "word" for w in changed):
                return True  # numbers, doses, codes, formulas: 10 mg / 100 mg, Factor VII / VIII, TRPM6 / TRPM7
            if any(contrast(x, y) for x in a[i1:i2] for y in b[j1:j2]):
                return True
    return False



def answer_coverage(question: tx.Text, answer: tx.Text) -> tuple[float, set[str]]:
    """The largest share of the answer's content words that the question already holds, and those words.

    The answer is taken whole and cut at its first comma, colon, semicolon or bracket
    ("Marfan syndrome, caused by FBN1 variants"): padding after the core answer must not
    hide that the question names it. Answers of numbers alone are left out.
    """
    q_keys = {w.key for w in tx.answer_content(tx.words(question))}
    m = _CORE_END.search(answer.plain)
    best: tuple[float, set[str]] = (0.0, set())
    for end in (len(answer.plain), m.start() if m else None):
        if not end:
            continue
        core = [w for w in tx.answer_content(tx.words(answer)) if w.start < end]
        a_keys = {w.key for w in core}
        # A bare number that the question also holds is a coincidence of quantities, not a giveaway.
        if any(w.kind != "number" for w in core):
            shared = a_keys & q_keys
            best = max(best, (len(shared) / len(a_keys), shared), key=lambda b: b[0])
    return best



_VOWEL_LETTER_NAMES = frozenset("AEFHILMNORSX")
"""Letters whose names start with a vowel sound: an MRI, an X-ray, an SSRI."""


def article(option: str) -> str | None:
    """'a' or 'an', whichever the option's first word takes; None when unsure (then both fit)."""
    m = tx.WORD.match(option)
    if m is None:
        return None
    word = m.group()
    if word[0].isdigit():
        digits = re.match(r"[0-9]+", word).group()
        if digits[0] == "8" or digits in ("11", "18"):
            return "an"
        return None if digits[:2] in ("11", "18") else "a"
    if not word.isascii():
        return None  # α-blocker, β-lactam: spoken as Greek letters
    after = option[len(word) : len(word) + 2]
    if len(word) == 1 and (after[:1] in ("+", "\u2212") or (after[:1] == "-" and not after[1:].isalpha())):
        return None  # H+, K+: "an aitch" or "a hydrogen" ion; but X-linked is "an ex"
    if len(word) == 1 or word.isupper() or any(c.isupper() for c in word[1:]):
        first = word[0].upper()
        if first in "AEIO":
            return "an"
        if len(word) > 1 and first in _VOWEL_LETTER_NAMES:
            return None  # an SSRI but a NASH: spelled out or read as a word
        return "an" if first in _VOWEL_LETTER_NAMES else "a"
    low = word.lower()
    if low.startswith(("hour", "honest", "honor", "honour", "heir")):
        return "an"
    if low.startswith(("herb", "uni", "ur", "ut", "us")):
        if re.match(r"uni(?![mnd])|ur[aeiouy]|ut[aeiouy]|us[aeiouy]", low):
            return "a"  # a unilateral, a urinary, a uterine, a usual
        return None
    if low.startswith(("eu", "ewe")) or low in ("one", "once"):
        return "a"
    if low[0] in "aeio":
        return "an"
    if low[0] == "u":
        return "an" if re.match(r"u(?:n(?!i)|l|m|p|g|d|t{2}|sh)", low) else None
    return "a"


_SENTENCE_END = re.compile(r"[.?!:](?=\s+[\"'(\[]?[A-Z0-9])\s+")


def _lead_in(text: tx.Text) -> tuple[int, int]:
    """(start, end) in the plain text of the lead-in: the last sentence that asks, else the last sentence."""
    plain = text.plain
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(plain)]
    bounds = list(zip(starts, starts[1:] + [len(plain)]))
    asking = [b for b in bounds if "?" in plain[b[0] : b[1]]]
    return (asking or bounds)[-1]


# Subordinate clauses describe the patient ("a patient who does not respond"), not what is asked.
_SUBORDINATE = re.compile(
    r"\b(?:who|whom|whose|that|when|whenever|while|if|unless|because|since|although|though|despite|after|before|until|whereas)\b",
    re.IGNORECASE,
)
_NEGATIVE_ANYWHERE = re.compile(r"\b(?:EXCEPT|NOT|LEAST|FALSE|INCORRECT|UNTRUE)\b|\bexcept\b(?=[\s:.?…_-]*$)")
_NEGATIVE_MAIN = re.compile(
    r"\b(?:except|not|cannot|can't|isn't|aren't|doesn't|don't|won't|wouldn't|shouldn't|couldn't|didn't|wasn't|weren't"
    r"|least(?=\s+(?:likely|appropriate|common|commonly|useful|helpful|suitable|accurate|consistent|probable|expected|important|effective|often))"
    r"|(?<=\bis\s)(?:false|incorrect|untrue|wrong)|(?<=\bare\s)(?:false|incorrect|untrue|wrong))\b",
    re.IGNORECASE,
)


def negative(stem: tx.Text) -> tuple[int, re.Match] | None:
    """(start of the lead-in in the stem's plain text, the negative word in it) when the lead-in asks for a negative."""
    start, end = _lead_in(stem)
    lead = stem.plain[start:end]
    m = _NEGATIVE_ANYWHERE.search(lead)
    if m is None:
        first = re.match(r"\s*\S+", lead)
        cut = _SUBORDINATE.search(lead, first.end() if first else 0)
        m = _NEGATIVE_MAIN.search(lead, 0, cut.start() if cut else len(lead))
    return None if m is None else (start, m)
