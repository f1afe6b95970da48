"""Colloquial → official terms (corpus/synonyms.yaml), for expanding queries and situations."""

from __future__ import annotations

from dataclasses import dataclass, field

from .normalize import for_matching


@dataclass
class Synonyms:
    # matching key of a colloquial form → official terms it stands for
    forms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, mapping: dict[str, list[str]]) -> "Synonyms":
        forms: dict[str, list[str]] = {}
        for official, colloquial in (mapping or {}).items():
            for form in colloquial or []:
                forms.setdefault(for_matching(str(form)), []).append(str(official))
        return cls({k: tuple(v) for k, v in forms.items() if k})

    def expand(self, text: str) -> list[str]:
        """Official terms for the colloquial forms in `text` that the text does not already use."""
        key = for_matching(text)
        found: list[str] = []
        # Longest forms first, so 液化气罐 is read before 液化气.
        for form in sorted(self.forms, key=len, reverse=True):
            if form in key:
                for official in self.forms[form]:
                    if official not in found and for_matching(official) not in key:
                        found.append(official)
                key = key.replace(form, "\u0000")
        return found
