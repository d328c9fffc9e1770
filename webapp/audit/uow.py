"""The unit of work owns the transaction: it rolls back unless told to commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session


class UnitOfWork:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        # Start from a fresh transaction: a snapshot opened by earlier reads (MariaDB's
        # REPEATABLE READ keeps one) must not leak into the locked write transaction.
        if self.session.in_transaction():
            self.session.rollback()
        return self

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.session.rollback()
