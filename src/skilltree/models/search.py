"""The text-search configuration the search documents are built in (one row)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base


class SearchConfiguration(Base):
    """The one row naming the text-search configuration of every search document and query;
    changed only by `skilltree search reindex`, which rebuilds the documents with it."""

    __tablename__ = "search_configuration"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    config: Mapped[str] = mapped_column(REGCONFIG, server_default=text("'english'::regconfig"))

    __table_args__ = (CheckConstraint("id", name="single_row"),)
