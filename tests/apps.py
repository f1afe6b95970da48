"""Build the HTTP app over the session's real index, with its own chat database."""

from __future__ import annotations

from api.app import create_app
from api.settings import Settings


def make_app(real_index, db_url: str):
    settings = Settings(data_dir=real_index.path.parent.parent, database_url=db_url)
    return create_app(settings, index_loader=lambda s: real_index)
