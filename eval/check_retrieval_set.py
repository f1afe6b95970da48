#!/usr/bin/env python3
"""Sanity checks for the labelled retrieval evaluation set.

Usage:
    python3 eval/check_retrieval_set.py CLAUSES_JSONL [RETRIEVAL_JSONL]

CLAUSES_JSONL is a clause listing (one JSON object per line with at least
``clause_id`` and ``text``).  RETRIEVAL_JSONL defaults to
``eval/data/retrieval.jsonl`` next to this script.

Checks:
  * every line is a JSON object with ``id`` / ``question`` / ``gold`` /
    ``document`` of the right types;
  * ids are unique and there are at least MIN_ITEMS items;
  * every gold clause id exists in the clause listing, and ``document`` is
    the document slug of one of the gold clauses;
  * every document that has clauses is the ``document`` of at least
    MIN_PER_DOC questions;
  * no question shares a run of OVERLAP_LEN or more consecutive characters
    with the text of any of its gold clauses (after removing whitespace and
    NFKC-folding, so full-width digits/letters compare equal to ASCII).

Exit status 0 when every check passes, 1 otherwise.  Standard library only.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# Run as a script from anywhere: the shared helpers sit beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from setcheck import doc_slug, load_clauses, normalize, read_records, report, shared_run  # noqa: E402

MIN_ITEMS = 230
MIN_PER_DOC = 3
OVERLAP_LEN = 8

DEFAULT_SET = Path(__file__).resolve().parent / "data" / "retrieval.jsonl"










def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    clauses_path = Path(argv[1])
    set_path = Path(argv[2]) if len(argv) > 2 else DEFAULT_SET

    clauses = load_clauses(clauses_path)
    norm_text = {cid: normalize(t) for cid, t in clauses.items()}
    docs_with_clauses = sorted({doc_slug(cid) for cid in clauses})

    errors: list[str] = []
    items = []
    for lineno, rec in read_records(set_path, errors):
        bad = False
        for key, typ in (("id", str), ("question", str),
                         ("gold", list), ("document", str)):
            if not isinstance(rec.get(key), typ):
                errors.append(f"line {lineno}: field {key!r} missing or not {typ.__name__}")
                bad = True
        if bad:
            continue
        if not rec["question"].strip():
            errors.append(f"line {lineno}: empty question")
        if not rec["gold"] or not all(isinstance(g, str) for g in rec["gold"]):
            errors.append(f"line {lineno}: gold must be a non-empty list of strings")
            continue
        if len(set(rec["gold"])) != len(rec["gold"]):
            errors.append(f"line {lineno} ({rec['id']}): duplicate gold ids")
        items.append((lineno, rec))

    # unique ids, size
    id_counts = Counter(rec["id"] for _, rec in items)
    for qid, n in sorted(id_counts.items()):
        if n > 1:
            errors.append(f"id {qid!r} used {n} times")
    if len(items) < MIN_ITEMS:
        errors.append(f"only {len(items)} items (need >= {MIN_ITEMS})")

    # gold ids exist, document consistent, no copied runs
    per_doc: Counter[str] = Counter()
    for lineno, rec in items:
        qid = rec["id"]
        per_doc[rec["document"]] += 1
        missing = [g for g in rec["gold"] if g not in clauses]
        for g in missing:
            errors.append(f"{qid}: gold id {g!r} not in clause listing")
        if rec["document"] not in {doc_slug(g) for g in rec["gold"]}:
            errors.append(f"{qid}: document {rec['document']!r} is not the slug of any gold clause")
        q = normalize(rec["question"])
        for g in rec["gold"]:
            if g in missing:
                continue
            run = shared_run(q, norm_text[g])
            if run:
                errors.append(f"{qid}: question shares {OVERLAP_LEN}-char run {run!r} with {g}")

    for doc in docs_with_clauses:
        if per_doc[doc] < MIN_PER_DOC:
            errors.append(f"document {doc!r} has {per_doc[doc]} questions (need >= {MIN_PER_DOC})")
    for doc in sorted(per_doc):
        if doc not in docs_with_clauses:
            errors.append(f"document {doc!r} has questions but no clauses")

    print(f"items: {len(items)}   documents with clauses: {len(docs_with_clauses)}")
    print("questions per document:")
    for doc in docs_with_clauses:
        print(f"  {doc:50s} {per_doc[doc]:4d}")
    return report(errors)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
