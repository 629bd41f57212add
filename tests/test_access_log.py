"""The access log's lines are written by a thread: a stuck output never holds up a request."""

from __future__ import annotations

import io
import logging
import threading

from skilltree.serving import QueuedAccessLog
from tests.locks import TIMEOUT


class StuckOutput(io.StringIO):
    """An output whose writes wait until `unstick` (as a pipe nobody reads), after the first
    one has begun (`writing`)."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.unstick = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        assert self.unstick.wait(TIMEOUT)
        return super().write(text)


def record(n: int) -> logging.LogRecord:
    """An access-log record whose message is `request n`."""
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, f"request {n}", None, None
    )


def test_lines_are_written_in_order_and_all_of_them_by_close() -> None:
    output = io.StringIO()
    log = QueuedAccessLog(output)
    for n in range(100):
        log.emit(record(n))
    log.close()
    assert output.getvalue().splitlines() == [f"request {n}" for n in range(100)]
    log.close()  # a second close does nothing


def test_a_stuck_output_drops_lines_past_the_capacity_and_says_how_many() -> None:
    output = StuckOutput()
    log = QueuedAccessLog(output, capacity=5)
    log.emit(record(0))
    assert output.writing.wait(TIMEOUT)  # the thread holds line 0, stuck in the write
    for n in range(1, 9):  # 5 wait in the queue, 3 do not fit: none of this blocks
        log.emit(record(n))
    assert log.dropped == 3
    log.emit(record(9))
    output.unstick.set()
    log.close()
    assert output.getvalue().splitlines() == [
        "request 0",
        "4 access-log lines dropped: output too slow",
        *(f"request {n}" for n in range(1, 6)),
    ]
