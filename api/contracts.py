"""JSON shapes other tools rely on (the `hazard classify --json` contract), built in one place."""

from __future__ import annotations

from assistant.classifier import Classifier, CriterionMatch, Decision, Finding


def _criterion_json(classifier: Classifier, m: CriterionMatch, role: str) -> dict:
    c = classifier.citation(m.criterion)
    return {
        "clause_id": c.clause_id, "citation": c.citation, "document_title": c.document_title,
        "doc_number": c.doc_number, "article": c.article, "item": c.item, "sub_item": c.sub_item,
        "quote": c.quote, "role": role, "status": c.status,
        "alternative": m.best.alternative.when,
        "conditions_met": [e.to_dict() for e in m.best.met],
        "conditions_missing": [e.to_dict() for e in m.best.contradicted],
        "conditions_unknown": [e.to_dict() for e in m.best.unknown],
        "excluded_by": m.best.excluded_by or None,
    }


def finding_json(classifier: Classifier, f: Finding) -> dict:
    return {
        "text": f.text, "label": f.label, "confidence": round(f.confidence, 2), "explanation": f.explanation,
        "industries": f.industries, "domains": f.domains,
        "criteria": [_criterion_json(classifier, m, "matched") for m in f.matched]
        + [_criterion_json(classifier, m, "nearest") for m in f.nearest],
        "follow_up_questions": f.questions,
        "unavailable_documents": [
            {"slug": s, "title": classifier.store.documents[s].title, "doc_number": classifier.store.documents[s].doc_number,
             "status": classifier.store.documents[s].status} for s in f.unavailable],
    }


def decision_json(classifier: Classifier, decision: Decision, id_=None) -> dict:
    findings = [finding_json(classifier, f) for f in decision.findings]
    seen: set[tuple[str, str]] = set()
    criteria = []
    for role in ("matched", "nearest"):
        for f in findings:
            for c in f["criteria"]:
                if c["role"] == role and (c["clause_id"], role) not in seen and \
                        (role == "matched" or (c["clause_id"], "matched") not in seen):
                    seen.add((c["clause_id"], role))
                    criteria.append({k: c[k] for k in ("clause_id", "citation", "document_title", "doc_number",
                                                       "article", "item", "sub_item", "quote", "role")})
    out = {"label": decision.label, "findings": findings, "criteria": criteria,
           "follow_up_questions": decision.questions, "explanation": decision.explanation}
    if id_ is not None:
        out = {"id": id_, **out}
    return out
