"""The optional LLM behind the adjudicator: any OpenAI-compatible chat endpoint (HAZARD_LLM_*)."""

from __future__ import annotations

from typing import Callable

from assistant.adjudicator import Adjudicator
from api.settings import Settings


def make_completion(settings: Settings) -> Callable[[list[dict]], str] | None:
    """OpenAI-format messages → the reply text; None when no endpoint is configured."""
    if not settings.llm_base_url:
        return None
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=settings.llm_base_url, api_key=settings.llm_api_key or "none",
                     model=settings.llm_model, timeout=settings.llm_timeout, max_retries=0, temperature=0)
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}

    def complete(messages: list[dict]) -> str:
        reply = llm.invoke([kinds[m["role"]](content=m["content"]) for m in messages])
        return reply.content if isinstance(reply.content, str) else reply.text

    return complete


def make_adjudicator(settings: Settings) -> Adjudicator | None:
    complete = make_completion(settings)
    return Adjudicator(complete) if complete is not None else None
