#!/usr/bin/env python3
"""Sanity checks for the labelled hazard-classification evaluation set.

Usage:
    python3 eval/check_classify_set.py CLAUSES_JSONL [CLASSIFY_JSONL]

CLAUSES_JSONL is a clause listing (one JSON object per line with at least
``clause_id`` and ``text``).  CLASSIFY_JSONL defaults to
``eval/data/classify.jsonl`` next to this script.

Each item of the set is one JSON object per line:
    {"id", "situation", "industry"?, "label", "gold", "near", "group"?, "note"}
with label one of major / general / insufficient / out_of_scope.

Checks:
  * every line is a JSON object with the fields above of the right types,
    ids are unique, situations are 8-120 characters long;
  * label counts: >= MIN_PER_LABEL of each label and >= MIN_ITEMS in all;
  * major items have a non-empty gold, every other label has gold == [];
    insufficient items name candidate criteria in near; out_of_scope items
    have near == []; most general items are near misses (non-empty near);
  * every gold/near id exists in the clause listing (a near may also be the
    bare slug of a metadata-only standard, METADATA_ONLY); gold ids are the
    most specific unit (no clause in the listing lies below them);
  * >= MIN_GROUPS rewording groups of >= 3 items, each group with one label
    and one gold set;
  * per-standard major counts (an item counts for every standard its gold
    cites; metal-mine and its supplement count together) and coverage of
    every gongmao article 3-14 by some major gold;
  * >= MIN_METADATA_ONLY insufficient items pointing at a metadata-only
    standard, >= MIN_MULTI multi-finding messages (numbered list or
    ";"-separated findings) and >= MIN_SCOPE scope traps (note starting with
    "scope:");
  * no situation shares a run of OVERLAP_LEN or more consecutive characters
    with the text of any of its gold or near clauses (after removing
    whitespace and NFKC-folding, so full-width digits/letters compare equal).

Exit status 0 when every check passes, 1 otherwise.  Standard library only.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Run as a script from anywhere: the shared helpers sit beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from setcheck import doc_slug, load_clauses, normalize, read_records, report, shared_run  # noqa: E402

OVERLAP_LEN = 8
MIN_ITEMS = 320
MIN_PER_LABEL = {"major": 190, "general": 85, "insufficient": 45, "out_of_scope": 20}
LABELS = tuple(MIN_PER_LABEL)
MIN_GROUPS = 20
GROUP_SIZE = 3
MIN_METADATA_ONLY = 8
MIN_MULTI = 10
MIN_SCOPE = 8
MIN_LEN, MAX_LEN = 8, 120
METADATA_ONLY = (
    "fire-major-hazard",
    "chemical-major-hazard-2026",
    "road-transport-major-hazard",
    "highway-operation-major-hazard",
    "water-conservancy-major-hazard",
)
# standard -> minimum number of major items citing it
MIN_MAJOR_PER_STANDARD = {
    "gongmao-major-hazard": 50,
    "coal-major-hazard": 25,
    "metal-mine-major-hazard": 20,  # incl. metal-mine-major-hazard-supplement
    "construction-major-hazard": 20,
    "special-equipment-major-hazard": 20,
    "gas-major-hazard": 12,
    "chemical-major-hazard": 12,
    "power-major-hazard": 10,
    "fireworks-major-hazard": 6,
    "civil-explosives-major-hazard": 6,
}
STANDARD_ALIASES = {"metal-mine-major-hazard-supplement": "metal-mine-major-hazard"}
GONGMAO_ARTICLES = range(3, 15)

DEFAULT_SET = Path(__file__).resolve().parent / "data" / "classify.jsonl"

# enumerators of a multi-finding message: "1." "2、" "（3）" "①" "１．" ...
ENUM_RE = re.compile(
    r"(?:^|[\s；;。，,：:])(?:[0-9０-９]{1,2}[\.、．)）]|[（(][0-9０-９一二三四五六七八九][)）]|[①-⑩])"
)






def standard_of(clause_id: str) -> str:
    slug = doc_slug(clause_id)
    return STANDARD_ALIASES.get(slug, slug)




def is_multi_finding(situation: str) -> bool:
    if len(ENUM_RE.findall(situation)) >= 2:
        return True
    segments = [s for s in re.split(r"[；;]", situation) if s.strip()]
    return len(segments) >= 2




def check_fields(lineno: int, rec: dict, errors: list[str]) -> bool:
    ok = True
    for key, typ in (("id", str), ("situation", str), ("label", str),
                     ("gold", list), ("near", list), ("note", str)):
        if not isinstance(rec.get(key), typ):
            errors.append(f"line {lineno}: field {key!r} missing or not {typ.__name__}")
            ok = False
    for key in ("industry", "group"):
        if key in rec and (not isinstance(rec[key], str) or not rec[key].strip()):
            errors.append(f"line {lineno}: optional field {key!r} must be a non-empty string")
            ok = False
    extra = set(rec) - {"id", "situation", "industry", "label", "gold", "near", "group", "note"}
    if extra:
        errors.append(f"line {lineno}: unexpected field(s) {sorted(extra)}")
        ok = False
    if not ok:
        return False
    for key in ("gold", "near"):
        if not all(isinstance(x, str) and x for x in rec[key]):
            errors.append(f"line {lineno}: {key} must be a list of non-empty strings")
            ok = False
        elif len(set(rec[key])) != len(rec[key]):
            errors.append(f"line {lineno} ({rec['id']}): duplicate ids in {key}")
    if rec["label"] not in LABELS:
        errors.append(f"line {lineno}: label {rec['label']!r} not one of {LABELS}")
        ok = False
    if not rec["note"].strip() or "\n" in rec["note"]:
        errors.append(f"line {lineno}: note must be one non-empty line")
    n = len(rec["situation"].strip())
    if not MIN_LEN <= n <= MAX_LEN:
        errors.append(f"line {lineno} ({rec['id']}): situation length {n} outside {MIN_LEN}-{MAX_LEN}")
    return ok


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: check_classify_set.py CLAUSES_JSONL [CLASSIFY_JSONL]", file=sys.stderr)
        return 2
    clauses_path = Path(argv[1])
    set_path = Path(argv[2]) if len(argv) > 2 else DEFAULT_SET

    clauses = load_clauses(clauses_path)
    norm_text = {cid: normalize(t) for cid, t in clauses.items()}
    # every proper prefix of an id ("a:1" of "a:1:2") has something below it
    has_children: set[str] = set()
    for cid in clauses:
        parts = cid.split(":")
        for k in range(1, len(parts)):
            has_children.add(":".join(parts[:k]))

    errors: list[str] = []
    items: list[tuple[int, dict]] = []
    for lineno, rec in read_records(set_path, errors):
        if check_fields(lineno, rec, errors):
            items.append((lineno, rec))

    # unique ids
    id_counts = Counter(rec["id"] for _, rec in items)
    for qid, n in sorted(id_counts.items()):
        if n > 1:
            errors.append(f"id {qid!r} used {n} times")

    # label counts
    label_counts = Counter(rec["label"] for _, rec in items)
    if len(items) < MIN_ITEMS:
        errors.append(f"only {len(items)} items (need >= {MIN_ITEMS})")
    for label, need in MIN_PER_LABEL.items():
        if label_counts[label] < need:
            errors.append(f"label {label!r}: {label_counts[label]} items (need >= {need})")

    per_standard: Counter[str] = Counter()
    gongmao_articles: set[int] = set()
    metadata_only = 0
    multi = Counter()
    scope = 0
    general_near = 0
    groups: dict[str, list[dict]] = defaultdict(list)

    for lineno, rec in items:
        qid, label, gold, near = rec["id"], rec["label"], rec["gold"], rec["near"]
        if "group" in rec:
            groups[rec["group"]].append(rec)
        if rec["note"].strip().lower().startswith("scope:"):
            scope += 1
        if is_multi_finding(rec["situation"]):
            multi[label] += 1

        # label-specific shape
        if label == "major":
            if not gold:
                errors.append(f"{qid}: major item with empty gold")
        elif gold:
            errors.append(f"{qid}: {label} item must have gold == []")
        if label == "insufficient" and not near:
            errors.append(f"{qid}: insufficient item must name candidate criteria in near")
        if label == "out_of_scope" and near:
            errors.append(f"{qid}: out_of_scope item must have near == []")
        if label == "general" and near:
            general_near += 1

        # ids exist / are specific
        for g in gold:
            if g not in clauses:
                errors.append(f"{qid}: gold id {g!r} not in clause listing")
            elif g in has_children:
                errors.append(f"{qid}: gold id {g!r} has items/sub-items below it; cite the most specific one")
        for n_id in near:
            if n_id in clauses:
                continue
            if n_id in METADATA_ONLY:
                continue
            errors.append(f"{qid}: near id {n_id!r} neither in clause listing nor a metadata-only slug")
        overlap_ids = set(gold) & set(near)
        if overlap_ids:
            errors.append(f"{qid}: ids in both gold and near: {sorted(overlap_ids)}")

        if label == "insufficient" and any(n_id in METADATA_ONLY for n_id in near):
            metadata_only += 1
        if label == "major":
            for std in {standard_of(g) for g in gold if g in clauses}:
                per_standard[std] += 1
            for g in gold:
                if doc_slug(g) == "gongmao-major-hazard":
                    gongmao_articles.add(int(g.split(":")[1]))

        # copied runs
        sit = normalize(rec["situation"])
        for cid in list(gold) + list(near):
            if cid not in norm_text:
                continue
            run = shared_run(sit, norm_text[cid])
            if run:
                errors.append(f"{qid}: situation shares {OVERLAP_LEN}-char run {run!r} with {cid}")

    if label_counts["general"] and general_near * 2 <= label_counts["general"]:
        errors.append(f"only {general_near}/{label_counts['general']} general items are near misses "
                      "(need a majority with non-empty near)")

    # rewording groups
    full_groups = 0
    for gid, members in sorted(groups.items()):
        labels = {m["label"] for m in members}
        golds = {tuple(sorted(m["gold"])) for m in members}
        if len(labels) > 1:
            errors.append(f"group {gid}: mixed labels {sorted(labels)}")
        if len(golds) > 1:
            errors.append(f"group {gid}: members differ in gold")
        if len({m['situation'] for m in members}) != len(members):
            errors.append(f"group {gid}: repeated wording")
        if len(members) >= GROUP_SIZE and len(labels) == 1 and len(golds) == 1:
            full_groups += 1
    if full_groups < MIN_GROUPS:
        errors.append(f"only {full_groups} consistent rewording groups of >= {GROUP_SIZE} (need >= {MIN_GROUPS})")

    for std, need in MIN_MAJOR_PER_STANDARD.items():
        if per_standard[std] < need:
            errors.append(f"standard {std}: {per_standard[std]} major items (need >= {need})")
    missing_articles = [a for a in GONGMAO_ARTICLES if a not in gongmao_articles]
    if missing_articles:
        errors.append(f"gongmao articles without a major item: {missing_articles}")
    if metadata_only < MIN_METADATA_ONLY:
        errors.append(f"only {metadata_only} insufficient items on metadata-only standards "
                      f"(need >= {MIN_METADATA_ONLY})")
    if sum(multi.values()) < MIN_MULTI:
        errors.append(f"only {sum(multi.values())} multi-finding messages (need >= {MIN_MULTI})")
    if scope < MIN_SCOPE:
        errors.append(f"only {scope} scope-trap items (note starting 'scope:'; need >= {MIN_SCOPE})")

    # report
    print(f"items: {len(items)}")
    print("per label:")
    for label in LABELS:
        print(f"  {label:14s} {label_counts[label]:4d}  (min {MIN_PER_LABEL[label]})")
    print("major items per standard:")
    for std, need in MIN_MAJOR_PER_STANDARD.items():
        print(f"  {std:34s} {per_standard[std]:4d}  (min {need})")
    print(f"gongmao articles covered: {sorted(gongmao_articles)}")
    print(f"general near misses: {general_near}/{label_counts['general']}")
    print(f"insufficient on metadata-only standards: {metadata_only}")
    print(f"rewording groups (>= {GROUP_SIZE}, consistent): {full_groups} of {len(groups)}")
    print(f"multi-finding messages: {sum(multi.values())} {dict(multi)}")
    print(f"scope traps: {scope}")
    return report(errors)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
