"""The limits of the item-writing rules (itemrules.py), each with the measurements it was chosen on.

Measured on the sound and flawed item sets in tests/fixtures/items;
bench/item_thresholds.py prints the same counts again for any candidate limit.
Change a limit only with a new measurement written beside it.
"""

LONGEST_RATIO = 1.5
LONGEST_MIN_CHARS = 12
# "Clearly the longest": at least 50% AND at least 12 characters longer than the longest
# distractor (plain text). Sound set: the key is the longest in 21 of 82 items; the widest
# margins are 19 vs 10 characters (+90%, +9: Bendroflumethiazide), 21 vs 13 (+62%, +8:
# Benzathine penicillin) and 31 vs 21 (+48%, +10: Prothrombin complex concentrate). Real
# names differ in length, so a ratio alone needs > 1.9 to pass them (and then misses 2 of
# the 7 flawed items), and a margin alone of 10 flags the PCC item. Flawed set: 7/7 caught;
# the narrowest are 33 vs 20 (+65%, +13) and 40 vs 23 (+74%, +17), like the shipped deck's
# q1 (41 vs 24, +71%, +17). At (1.5, 12): 0/82 false alarms, 7/7 caught; (1.5, 15) misses
# the 33-vs-20 item, (1.4, 10) flags the PCC item.

NEAR_DUPLICATE = 0.92
# Near-duplicates: difflib's ratio of the options' normalised words (lower case, British
# spellings made American, raised/increased and low/reduced merged, stemmed, small words
# dropped) is at least 0.92, unless a guard says they differ: different numbers or codes
# (10 mg / 100 mg, Factor VII / VIII, Mg2+ / Ca2+), opposites (hypo-/hyper-, intra-/extra-,
# low/high) or a negation (caseating / non-caseating). Same words in another order, case,
# plural or spelling are duplicates whatever the ratio. Sound set (82 items): the most
# similar unguarded pair is Dysphagia / Dysphasia at 0.889, then Hypokalemia / Hypocalcemia
# 0.870; guarded pairs reach 0.952 (Factor VII / VIII). Flawed set: the near (not exact)
# duplicates score 0.947 (thromboxane / thromboxane A2), 0.968 and 0.971 (typos). At 0.92:
# 0/82 false alarms, 10/10 caught; 0.88 flags Dysphagia / Dysphasia, 0.95 misses one.

ANSWER_COVERAGE = 0.75
# A question states its answer when it holds at least 75% of the answer's content words
# (stemmed; numbers and codes count), whole or up to its first comma or bracket. Sound
# question/answer cards reach at most 0.5: 4 of the 21 in the sound set ("Which vitamin
# deficiency causes scurvy?" - Vitamin C deficiency) and 6 of the shipped deck's 45 ("What
# kind of K+ channel is ROMK?" - an inward-rectifier K+ channel). Every flawed card reaches
# 1.0 (6/6). Anything above 0.5 separates the sets; 0.75 keeps room on both sides.

STEM_REPEAT_MIN_WORDS = 1
# How many distinct content words of the stem (stop words and words every item uses
# removed) must reappear in the key and in no distractor. Flawed set: 5/5 caught at 1, 0/5
# at 2: a clang is one telling word ("streptococcal", "lupus", "calf"). Sound set: 0/82 at
# 1 after review; the first draft had 2 flagged items, and both were real clangs ("pulmonary"
# only in "CT pulmonary angiography", "smokes" only in "Smoking cessation"), so they were
# rewritten with a distractor that shares the word.
