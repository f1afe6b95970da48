#!/usr/bin/env python3
"""Sanity checks for the answer-key evaluation set (exam questions with keys).

Usage:
    python3 eval/check_answer_set.py CLAUSES_JSONL [ANSWER_JSONL]

CLAUSES_JSONL is a clause listing (one JSON object per line with at least ``clause_id`` and
``text``). ANSWER_JSONL defaults to ``eval/data/answer.jsonl`` next to this script.

Checks:
  * every line has ``id``, ``type`` (single | multiple | judge), ``question``, ``gold`` (list),
    ``split`` (dev | test) and an ``answer`` of the right shape for its type (null only for the
    questions the corpus cannot decide, which have no gold clauses);
  * choice questions have options A… with non-empty, pairwise different texts, and every keyed
    letter is one of them;
  * ``key_outdated`` questions carry the current answer in ``correct``, which differs from the key;
  * ids are unique; at least MIN_ITEMS questions, MIN_PER_TYPE per type, MIN_OUTDATED outdated
    keys and MIN_UNDECIDABLE undecidable ones; the test split holds 20–40 % of the set;
  * every gold clause ID exists in the clause listing;
  * no question pastes a whole clause: a stem may quote part of a sentence (exam papers do), but
    it must not contain the full text of one of its gold clauses.

Exit status 0 when every check passes, 1 otherwise. Standard library only.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from setcheck import load_clauses, normalize, read_records, report

MIN_ITEMS = 110
MIN_PER_TYPE = {"single": 40, "multiple": 30, "judge": 40}
MIN_OUTDATED = 8
MIN_UNDECIDABLE = 6
DEFAULT_SET = Path(__file__).resolve().parent / "data" / "answer.jsonl"
_NUMBER_HEAD = re.compile(r"^(?:第[一二三四五六七八九十百零〇\d]+条|[（(][一二三四五六七八九十\d]+[)）]|"
                          r"[一二三四五六七八九十]+、|\d+(?:\.\d+)*[.、]?|[a-z][)）])")


def _answer_ok(kind: str, answer, options: dict) -> bool:
    if answer is None:
        return True
    if kind == "judge":
        return isinstance(answer, bool)
    if kind == "single":
        return isinstance(answer, str) and answer in options
    return (isinstance(answer, list) and len(answer) >= 2 and len(set(answer)) == len(answer)
            and all(isinstance(a, str) and a in options for a in answer))


def _clause_body(text: str) -> str:
    return _NUMBER_HEAD.sub("", normalize(text), count=1).rstrip("。；;")


def check(records: list[tuple[int, dict]], clauses: dict[str, str], errors: list[str]) -> Counter:
    counts: Counter = Counter()
    ids: Counter = Counter()
    for lineno, rec in records:
        qid = rec.get("id")
        where = f"line {lineno} ({qid})"
        kind = rec.get("type")
        if not isinstance(qid, str) or not qid:
            errors.append(f"line {lineno}: missing id")
            continue
        ids[qid] += 1
        if kind not in MIN_PER_TYPE:
            errors.append(f"{where}: type {kind!r} is not single/multiple/judge")
            continue
        counts[kind] += 1
        if not isinstance(rec.get("question"), str) or not rec["question"].strip():
            errors.append(f"{where}: empty question")
            continue
        if rec.get("split") not in ("dev", "test"):
            errors.append(f"{where}: split must be dev or test")
        counts[rec.get("split")] += 1
        options = rec.get("options") or {}
        if kind != "judge":
            if not isinstance(options, dict) or len(options) < 2 or \
                    any(not isinstance(v, str) or not v.strip() for v in options.values()):
                errors.append(f"{where}: choice question needs at least two non-empty options")
                continue
            texts = [normalize(v) for v in options.values()]
            if len(set(texts)) != len(texts):
                errors.append(f"{where}: two options have the same text")
        elif options:
            errors.append(f"{where}: a judge question has no options")
        gold = rec.get("gold")
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            errors.append(f"{where}: gold must be a list of clause IDs")
            continue
        answer = rec.get("answer", "missing")
        if answer == "missing" or not _answer_ok(kind, answer, options):
            errors.append(f"{where}: answer {answer!r} does not fit a {kind} question")
        if answer is None:
            counts["undecidable"] += 1
            if gold:
                errors.append(f"{where}: an undecidable question has no gold clauses")
        elif not gold:
            errors.append(f"{where}: a keyed question needs gold clauses")
        if rec.get("key_outdated"):
            counts["outdated"] += 1
            correct = rec.get("correct", "missing")
            if correct == "missing" or correct is None or not _answer_ok(kind, correct, options):
                errors.append(f"{where}: key_outdated needs the current answer in 'correct'")
            elif correct == answer:
                errors.append(f"{where}: 'correct' equals the outdated key")
        for g in gold:
            if g not in clauses:
                errors.append(f"{where}: gold id {g!r} not in clause listing")
                continue
            body = _clause_body(clauses[g])
            if len(body) >= 12 and body in normalize(rec["question"]):
                errors.append(f"{where}: the stem pastes the whole text of {g}")
    for qid, n in ids.items():
        if n > 1:
            errors.append(f"id {qid!r} used {n} times")
    return counts


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    clauses = load_clauses(Path(argv[1]))
    set_path = Path(argv[2]) if len(argv) > 2 else DEFAULT_SET
    errors: list[str] = []
    records = read_records(set_path, errors)
    counts = check(records, clauses, errors)
    total = sum(counts[k] for k in MIN_PER_TYPE)
    if total < MIN_ITEMS:
        errors.append(f"only {total} questions (need >= {MIN_ITEMS})")
    for kind, need in MIN_PER_TYPE.items():
        if counts[kind] < need:
            errors.append(f"only {counts[kind]} {kind} questions (need >= {need})")
    if counts["outdated"] < MIN_OUTDATED:
        errors.append(f"only {counts['outdated']} outdated keys (need >= {MIN_OUTDATED})")
    if counts["undecidable"] < MIN_UNDECIDABLE:
        errors.append(f"only {counts['undecidable']} undecidable questions (need >= {MIN_UNDECIDABLE})")
    share = counts["test"] / (total or 1)
    if not 0.2 <= share <= 0.4:
        errors.append(f"test split is {share:.0%} of the set (want 20-40%)")
    print(f"questions: {total}  " + "  ".join(f"{k} {counts[k]}" for k in
                                              ("single", "multiple", "judge", "dev", "test", "outdated", "undecidable")))
    return report(errors)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
