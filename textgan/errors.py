"""User-facing errors: the CLI prints `str(error)` on one line and exits with status 2."""


class TextganError(Exception):
    """Base of every error caused by input, configuration or environment rather than a bug."""


class CorpusError(TextganError):
    """A corpus is missing, empty, unreadable or not text."""


class DataError(CorpusError):
    """An image data set is missing, damaged, unsafe or unreadable."""


class CheckpointError(TextganError):
    """A checkpoint is missing, damaged, unsafe, or does not fit the run."""


class ConfigError(TextganError):
    """An option value or a combination of options is invalid."""


class NonFiniteError(TextganError):
    """Training produced a non-finite loss or gradient."""


def read_json(path, *, error: type[TextganError], missing: str, what: str = ""):
    """A JSON file's object; a missing file raises `error(missing)`, an unreadable one
    `error("cannot read WHAT PATH: reason")` (first line of the reason only)."""
    import json
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"cannot read {what + ' ' if what else ''}{path}: {str(e).splitlines()[0]}") from None
