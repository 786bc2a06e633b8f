"""Test-wide settings: the encoded-corpus cache lives in a temporary directory, never in ~/.cache."""
import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("TEXTGAN_CACHE_DIR", str(tmp_path_factory.mktemp("textgan-cache")))
    mp.setenv("TEXTGAN_DATA_DIR", str(tmp_path_factory.mktemp("textgan-data")))
    yield
    mp.undo()
