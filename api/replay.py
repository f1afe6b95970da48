"""Replay a logged decision (`hazard replay ID`): re-run the same input with the same profile (and,
for chat, the session history as logged) through the same code path, on the index generation it
used and on today's, and say what differs from the logged output.

A pruned generation cannot be reproduced: the report says so and shows only the run on the current
generation, labelled as such.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from api.audit import CHAT, CLASSIFY, AuditRecord, code_version, rules_version
from api.settings import Settings
from assistant.classifier import LABEL_ZH, Profile

KIND_ZH = {"answer": "法规解答", "classification": "隐患判定", "clarification": "请求补充", "refusal": "拒答"}
ROLE_ZH = {"matched": "符合的判定条款", "nearest": "最相近的条款"}


@dataclass
class Difference:
    field: str  # label | matched | nearest | quote | citation | follow_up_questions | explanation | kind | …
    text: str  # what changed, in Chinese
    before: Any = None
    after: Any = None


@dataclass
class Run:
    generation: str
    output: dict[str, Any]
    identical: bool
    differences: list[Difference]


@dataclass
class ReplayReport:
    record: AuditRecord
    original: Run | None  # on the logged generation; None when it is gone
    current: Run | None  # on today's generation (the same Run when nothing was ingested since)
    current_generation: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return self.original is not None and self.original.identical

    def to_dict(self) -> dict[str, Any]:
        def run(r: Run | None) -> dict | None:
            return None if r is None else {"generation": r.generation, "identical": r.identical,
                                           "differences": [asdict(d) for d in r.differences], "output": r.output}

        return {"id": self.record.id, "kind": self.record.kind, "created_at": self.record.created_at.isoformat(),
                "owner": self.record.owner, "input": self.record.input, "logged_output": self.record.output,
                "generation": self.record.generation, "generation_available": self.original is not None,
                "reproduced": self.reproduced, "original": run(self.original),
                "current_generation": self.current_generation, "current": run(self.current), "notes": self.notes}


# -- running ---------------------------------------------------------------------------------------
def replay(record: AuditRecord, settings: Settings) -> ReplayReport:
    from ingest.generations import GenerationGoneError, current_name, generation_path
    from ingest.index import IndexMismatchError

    notes: list[str] = []
    current = current_name(settings.data_dir)
    original = None
    try:
        generation_path(settings.data_dir, record.generation)
        original = _run_on(record, settings, record.generation)
    except GenerationGoneError:
        notes.append(f"当时使用的索引版本 {record.generation} 已被清理（入库后只保留最近 {settings.keep_generations} 个"
                     f"旧版本，见 HAZARD_KEEP_GENERATIONS），无法按当时的版本复现；下面只有在当前索引版本上重新运行的"
                     f"结果，不代表当时的判定依据。")
    except IndexMismatchError as exc:
        notes.append(f"无法在当时的索引版本 {record.generation} 上重新运行：{exc}")
    if current is None:
        notes.append("当前没有可用的索引，无法与今天的语料比较：请先运行 hazard ingest。")
        now = None
    elif original is not None and current == record.generation:
        now = original
    else:
        now = _run_on(record, settings, None)
    notes += version_notes(record, settings)
    return ReplayReport(record, original, now, current, notes)


def _run_on(record: AuditRecord, settings: Settings, generation: str | None) -> Run:
    from api.services import build_classifier, load_index

    index = load_index(settings, True, generation)
    output = rerun(record, index, build_classifier(index, settings), settings)
    return Run(index.generation, output, same_json(record.output, output), compare(record.kind, record.output, output))


def rerun(record: AuditRecord, index, classifier, settings: Settings) -> dict[str, Any]:
    """The logged input through the code path that answered it; the output as JSON was stored."""
    from api.contracts import decision_json

    if record.kind == CLASSIFY:
        p = record.input.get("profile") or {}
        decision = classifier.classify(record.input["situation"], Profile(p.get("industry") or "",
                                                                          tuple(p.get("domains") or ())))
        return _as_stored(decision_json(classifier, decision))
    if record.kind == CHAT:
        from api.db import TurnResult
        from api.routes.chat import turn_json
        from api.services import build_dialogue
        from assistant.dialogue import Turn

        history = [Turn(**{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()})
                   for t in record.input.get("history") or []]
        p = record.input.get("profile")
        profile = Profile(p.get("industry") or "", tuple(p.get("domains") or ())) if p else None
        dialogue = build_dialogue(index, classifier, settings)
        reply = dialogue.reply(record.input["message"], history, profile)
        classification = decision_json(classifier, reply.decision) if reply.decision is not None else None
        return _as_stored(turn_json(TurnResult(record.input.get("session_id") or "", reply, classification)))
    raise ValueError(f"无法重放此类记录：{record.kind}")


def _as_stored(data: dict) -> dict:
    # The log holds JSON: compare like with like (tuples become lists, keys strings).
    return json.loads(json.dumps(data, ensure_ascii=False))


def same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(b, sort_keys=True, ensure_ascii=False)


def version_notes(record: AuditRecord, settings: Settings) -> list[str]:
    """What besides the index can make a re-run differ: the team's rules, the code, an LLM."""
    logged, now = record.code_version, code_version(settings)
    notes = []
    if logged.get("rules") and logged["rules"] != rules_version():
        notes.append(f"判定规则（corpus/criteria 等标注）自记录以来已修改（{logged['rules']} → {rules_version()}）："
                     f"重新运行使用的是当前规则，即使在当时的索引版本上结果也可能不同。")
    changed = [k for k in ("package", "commit", "pipeline") if logged.get(k) and logged.get(k) != now.get(k)]
    if changed:
        notes.append("程序版本与记录时不同（" + "，".join(f"{k}: {logged[k]} → {now.get(k) or '未知'}" for k in changed)
                     + "）。")
    if logged.get("llm") or now.get("llm"):
        notes.append(f"记录时 LLM：{logged.get('llm') or '未启用'}；现在：{now.get('llm') or '未启用'}。"
                     f"LLM 的输出不保证逐字可重复。")
    return notes


# -- comparing -------------------------------------------------------------------------------------
def compare(kind: str, before: dict, after: dict) -> list[Difference]:
    """What differs between the logged output and a re-run, field by field, in readable Chinese."""
    if kind == CHAT:
        return _compare_chat(before, after)
    return _compare_decision(before, after, "")


def _compare_decision(b: dict, a: dict, prefix: str) -> list[Difference]:
    diffs = []
    if b.get("label") != a.get("label"):
        diffs.append(Difference("label", f"{prefix}判定结论：{LABEL_ZH.get(b.get('label'), b.get('label'))} → "
                                         f"{LABEL_ZH.get(a.get('label'), a.get('label'))}", b.get("label"), a.get("label")))
    for role, name in ROLE_ZH.items():
        ids_b = [c["clause_id"] for c in b.get("criteria") or [] if c.get("role") == role]
        ids_a = [c["clause_id"] for c in a.get("criteria") or [] if c.get("role") == role]
        if ids_b != ids_a:
            diffs.append(Difference(role, f"{prefix}{name}：{_id_changes(ids_b, ids_a)}", ids_b, ids_a))
    diffs += _compare_quotes(b.get("criteria") or [], a.get("criteria") or [], prefix)
    if b.get("follow_up_questions") != a.get("follow_up_questions"):
        diffs.append(Difference("follow_up_questions", f"{prefix}追问不同", b.get("follow_up_questions"),
                                a.get("follow_up_questions")))
    if b.get("explanation") != a.get("explanation"):
        diffs.append(Difference("explanation", f"{prefix}说明文字不同", b.get("explanation"), a.get("explanation")))
    if not diffs and not same_json(b, a):
        diffs.append(Difference("findings", f"{prefix}逐项判定的细节不同（findings：条件、置信度等）",
                                b.get("findings"), a.get("findings")))
    return diffs


def _compare_chat(b: dict, a: dict) -> list[Difference]:
    diffs = []
    if b.get("kind") != a.get("kind"):
        diffs.append(Difference("kind", f"回复类型：{KIND_ZH.get(b.get('kind'), b.get('kind'))} → "
                                        f"{KIND_ZH.get(a.get('kind'), a.get('kind'))}", b.get("kind"), a.get("kind")))
    ids_b = [c["clause_id"] for c in b.get("citations") or []]
    ids_a = [c["clause_id"] for c in a.get("citations") or []]
    if ids_b != ids_a:
        diffs.append(Difference("citations", f"引用条款：{_id_changes(ids_b, ids_a)}", ids_b, ids_a))
    diffs += _compare_quotes(b.get("citations") or [], a.get("citations") or [], "")
    cb, ca = b.get("classification"), a.get("classification")
    if (cb is None) != (ca is None):
        diffs.append(Difference("classification", f"隐患判定：{'有' if cb else '无'} → {'有' if ca else '无'}", cb, ca))
    elif cb is not None:
        # Quotes were compared through the citations already.
        diffs += [d for d in _compare_decision(cb, ca, "判定 — ") if d.field not in ("quote", "citation")]
    for key, name in (("answer", "回复文字不同"), ("follow_up_questions", "追问不同"), ("searched_query", "检索用语不同")):
        if b.get(key) != a.get(key):
            diffs.append(Difference(key, name, b.get(key), a.get(key)))
    if not diffs and not same_json(b, a):
        diffs.append(Difference("details", "其他细节不同", b, a))
    return diffs


def _compare_quotes(before: list[dict], after: list[dict], prefix: str) -> list[Difference]:
    """Clauses cited both times whose official text or citation changed (a new document version)."""
    now = {c["clause_id"]: c for c in after}
    diffs, seen = [], set()
    for c in before:
        cid = c["clause_id"]
        if cid in seen or cid not in now:
            continue
        seen.add(cid)
        if c.get("quote") != now[cid].get("quote"):
            diffs.append(Difference("quote", f"{prefix}条款 {cid} 的原文已变化", c.get("quote"), now[cid].get("quote")))
        if c.get("citation") != now[cid].get("citation"):
            diffs.append(Difference("citation", f"{prefix}条款 {cid} 的引用名称已变化", c.get("citation"),
                                    now[cid].get("citation")))
    return diffs


def _id_changes(before: list[str], after: list[str]) -> str:
    gone = [x for x in before if x not in after]
    new = [x for x in after if x not in before]
    parts = []
    if gone:
        parts.append("不再包含 " + "、".join(gone))
    if new:
        parts.append("新增 " + "、".join(new))
    return "；".join(parts) or "顺序不同"
