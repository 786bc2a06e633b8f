"""Resumable verified downloads (local http.server and file://) and safe tar extraction."""
import hashlib
import http.server
import io
import tarfile
import threading

import pytest

from textgan.data.download import download_file, safe_extract
from textgan.errors import CorpusError

PAYLOAD = bytes(range(256)) * 40        # 10,240 bytes


class RangeHandler(http.server.BaseHTTPRequestHandler):
    seen_ranges: list = []

    def do_GET(self):
        rng = self.headers.get("Range")
        RangeHandler.seen_ranges.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    RangeHandler.seen_ranges = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.bin"
    httpd.shutdown()
    httpd.server_close()


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_resume_from_partial_file(server, tmp_path):
    dest = tmp_path / "file.bin"
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD[:3000])
    download_file(server, dest, size=len(PAYLOAD), sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert RangeHandler.seen_ranges == ["bytes=3000-"]
    assert not (tmp_path / "file.bin.part").exists()


def test_size_mismatch(server, tmp_path):
    with pytest.raises(CorpusError, match="10240 bytes, expected 20000"):
        download_file(server, tmp_path / "f", size=20000, progress=False)
    assert not (tmp_path / "f").exists()


def test_checksum_mismatch(server, tmp_path):
    with pytest.raises(CorpusError, match="checksum mismatch"):
        download_file(server, tmp_path / "f", size=len(PAYLOAD), sha256="0" * 64, progress=False)
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.part").exists()


def test_file_url_restarts_when_range_is_ignored(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "dst.bin"
    dest.parent.mkdir()
    (dest.parent / "dst.bin.part").write_bytes(b"garbage")
    download_file(src.as_uri(), dest, size=len(PAYLOAD), sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


def _tar(tmp_path, members):
    path = tmp_path / "x.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for info in members:
            data = b"evil" if info.isfile() else None
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data else None)
    return path


@pytest.mark.parametrize("name,kind,link", [
    ("../evil", tarfile.REGTYPE, ""),
    ("/abs/evil", tarfile.REGTYPE, ""),
    ("ok/../../evil", tarfile.REGTYPE, ""),
    ("link", tarfile.SYMTYPE, "../../etc/passwd"),
    ("hard", tarfile.LNKTYPE, "/etc/passwd"),
])
def test_malicious_members_rejected(tmp_path, name, kind, link):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    archive = _tar(tmp_path, [info])
    with pytest.raises(CorpusError, match="unsafe"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil").exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_safe_member_extracts(tmp_path):
    archive = _tar(tmp_path, [tarfile.TarInfo("dir/good.txt")])
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "dir" / "good.txt").read_bytes() == b"evil"
