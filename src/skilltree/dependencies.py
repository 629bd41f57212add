"""FastAPI dependencies: the request's unit of work and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit runs before the response is sent, so a failed commit is a 500,
# never a success the database did not keep.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
