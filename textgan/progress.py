"""Progress of a long loop: a tqdm bar on a terminal, plain lines in a log file.

Redirected to a file, a bar's carriage-return updates become thousands of lines; there a line is
written every `PLAIN_EVERY_PERCENT` of the run instead, with the rate, the time left and the
headline metric."""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

PLAIN_EVERY_PERCENT = 5


class PlainProgress:
    """tqdm's `update`/`n`/`set_postfix`/`close` as one line every few percent."""

    def __init__(self, total: int, initial: int = 0, desc: str = "train",
                 write: Callable[[str], None] | None = None):
        self.total, self.n, self.desc = total, initial, desc
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._every = max(1, total * PLAIN_EVERY_PERCENT // 100)
        self._start, self._start_n = time.perf_counter(), initial
        self._next = (initial // self._every + 1) * self._every
        self._postfix = ""

    def set_postfix(self, refresh: bool = False, **values) -> None:
        self._postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def update(self, k: int = 1) -> None:
        self.n += k
        if self.n >= self._next or self.n == self.total:
            self._next = (self.n // self._every + 1) * self._every
            self._line()

    def _line(self) -> None:
        elapsed = time.perf_counter() - self._start
        done = self.n - self._start_n
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.n) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.n / self.total if self.total else 100.0
        parts = [f"{self.desc} {self.n}/{self.total} ({pct:.0f}%)", f"{rate:.2f} it/s",
                 f"ETA {_clock(eta)}"]
        if self._postfix:
            parts.append(self._postfix)
        self._write(", ".join(parts))

    def close(self) -> None:
        pass

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _on_terminal(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def data_bar(*, desc: str, unit: str, total: int | None = None, initial: int = 0, enabled: bool = True,
             stream: TextIO | None = None, **tqdm_options):
    """Progress of reading data (lines encoded, bytes fetched, images decoded): a tqdm bar on a
    terminal; off one, a plain line every few percent when the total is known, else nothing (the
    reader's own log line says what was read)."""
    from tqdm import tqdm
    stream = stream or sys.stderr
    if enabled and _on_terminal(stream):
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=stream, **tqdm_options)
    if enabled and total:
        return PlainProgress(total, initial, desc, write=lambda line: print(line, file=stream, flush=True))
    return tqdm(total=total, initial=initial, disable=True)


def _clock(seconds: float) -> str:
    if seconds != seconds:       # NaN: no rate yet
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class _Silent:
    def __init__(self, initial: int = 0):
        self.n = initial

    def set_postfix(self, refresh: bool = False, **values) -> None:
        pass

    def update(self, k: int = 1) -> None:
        self.n += k

    def close(self) -> None:
        pass


def progress(total: int, initial: int = 0, *, enabled: bool = True, desc: str = "train",
             stream: TextIO | None = None):
    """A bar when `stream` (stderr) is a terminal, plain lines otherwise, nothing when disabled."""
    if not enabled:
        return _Silent(initial)
    stream = stream or sys.stderr
    if _on_terminal(stream):
        from tqdm.auto import tqdm
        return tqdm(total=total, initial=initial, unit="it", dynamic_ncols=True, desc=desc, file=stream)
    return PlainProgress(total, initial, desc,
                         write=lambda line: print(line, file=stream, flush=True))
