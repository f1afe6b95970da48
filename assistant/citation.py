"""The one place that builds citations from clauses. Citations are never typed by hand."""

from __future__ import annotations

from .model import FAMILY_GB, Citation, Clause, Document
from .numerals import to_chinese_numeral


def _item_label(clause: Clause) -> str:
    label = ""
    if clause.item is not None:
        label += f"第（{to_chinese_numeral(int(clause.item))}）项"
    if clause.sub_item is not None:
        label += f"第{clause.sub_item}目"
    return label


def locator(clause: Clause, document: Document) -> str:
    """The position part of a citation: 第十一条第（十）项, 第十二项, 第4.3条b) …"""
    if document.family == FAMILY_GB:
        return f"第{clause.article}条" + (f"{clause.item})" if clause.item is not None else "")
    if clause.part_title:
        # Parts of the metal-mine standard: the part heading, then items and sub-items.
        rest = _item_label(clause)
        return clause.part_title + (f" {rest}" if rest else "")
    if document.family == "list":
        return f"第{to_chinese_numeral(int(clause.article))}项"
    return f"第{to_chinese_numeral(int(clause.article))}条" + _item_label(clause)


def human_citation(clause: Clause, document: Document) -> str:
    number = f"（{document.doc_number}）" if document.doc_number else ""
    return f"《{document.title}》{number}{locator(clause, document)}"


def cite(clause: Clause, document: Document) -> Citation:
    """Citation of `clause`, quoting its official text word for word."""
    if clause.doc_slug != document.slug:
        raise ValueError(f"clause {clause.clause_id} does not belong to {document.slug}")
    return Citation(
        clause_id=clause.clause_id,
        citation=human_citation(clause, document),
        document_title=document.title,
        doc_number=document.doc_number,
        article=clause.article,
        item=clause.item,
        sub_item=clause.sub_item,
        quote=clause.text,
        status=document.status,
        effective=document.effective,
    )
