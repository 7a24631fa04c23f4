"""ftpkit.Client and ftpkit.Pool: downloads and uploads that resume and
verify, typed listings, walk(), the pool, and the GIL released during I/O."""

from __future__ import annotations

import datetime
import hashlib
import os
import threading
import time

import pytest

import ftpkit
from conftest import PASS, REAL_IMPLICIT, REAL_TLS, USER, require_real


@pytest.fixture
def client(local_plain):
    with ftpkit.Client(local_plain.host, local_plain.port, user=USER, passwd=PASS) as c:
        yield c


def test_upload_then_download_verified(client, local_plain, tmp_path):
    data = os.urandom(3 << 20)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    offsets = []
    up = client.upload(src, "up.bin", progress=offsets.append)
    assert up.size == len(data) and up.transferred == len(data)
    assert offsets and offsets[-1] == len(data) and offsets == sorted(offsets)
    assert (local_plain.home / "up.bin").read_bytes() == data
    dst = tmp_path / "dst.bin"
    down = client.download("up.bin", dst)
    assert down.size == len(data) and down.resumed_from == 0
    assert "size" in down.verified
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not (tmp_path / "dst.bin.part").exists()
    (local_plain.home / "up.bin").unlink()


def test_download_resumes_from_part_file(client, local_plain, tmp_path):
    data = os.urandom(1 << 20)
    (local_plain.home / "resume.bin").write_bytes(data)
    part = tmp_path / "out.bin.part"
    part.write_bytes(data[:300_000])
    report = client.download("resume.bin", tmp_path / "out.bin")
    assert report.resumed_from == 300_000
    # Resuming re-reads a short overlap to check the local bytes still match.
    assert len(data) - 300_000 <= report.transferred < len(data) - 200_000
    assert (tmp_path / "out.bin").read_bytes() == data
    assert not part.exists()
    (local_plain.home / "resume.bin").unlink()


def test_failed_download_raises_ftplib_error(client, tmp_path):
    with pytest.raises(ftpkit.ftplib.error_perm) as e:
        client.download("no-such-file.bin", tmp_path / "x.bin", retries=0)
    assert str(e.value).startswith("550")
    assert not (tmp_path / "x.bin").exists()


def test_list_typed_entries_and_walk(client, local_plain):
    root = local_plain.home / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"12345")
    (root / "sub" / "b.txt").write_bytes(b"xy")
    (root / "sub" / "deeper" / "c.txt").write_bytes(b"")
    entries = {e.name: e for e in client.list("/tree")}
    assert set(entries) == {"sub", "a.txt"}
    a = entries["a.txt"]
    assert a.is_file and not a.is_dir and a.size == 5
    assert isinstance(a.modified, datetime.datetime) and a.modified.tzinfo is not None
    assert abs((a.modified - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 600
    assert entries["sub"].is_dir
    walked = {path: (sorted(d.name for d in dirs), sorted(f.name for f in files)) for path, dirs, files in client.walk("/tree")}
    assert walked == {
        "/tree": (["sub"], ["a.txt"]),
        "/tree/sub": (["deeper"], ["b.txt"]),
        "/tree/sub/deeper": ([], ["c.txt"]),
    }


def test_pool_reuses_connections(local_plain):
    pool = ftpkit.Pool(local_plain.host, local_plain.port, user=USER, passwd=PASS, max_size=2)
    with pool.get() as a, pool.get() as b:
        assert a.pwd() == "/" and b.pwd() == "/"
        assert pool.status() == (2, 0)
    assert pool.status() == (0, 2)
    with pool.get() as c:
        assert c.command("NOOP").startswith("200")
        assert pool.status() == (1, 1)


def test_gil_released_during_transfer(client, local_plain, tmp_path):
    """Another Python thread keeps running while a download moves data."""
    data = os.urandom(32 << 20)
    (local_plain.home / "gil.bin").write_bytes(data)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    start = time.perf_counter()
    client.download("gil.bin", tmp_path / "gil.bin", verify="size")
    end = time.perf_counter()
    done.set()
    t.join()
    during = [x for x in ticks if start <= x <= end]
    # The server runs in this process too: without the GIL released the
    # transfer could not progress at all while the ticker held it.
    assert len(during) >= 3
    assert (tmp_path / "gil.bin").stat().st_size == len(data)
    (local_plain.home / "gil.bin").unlink()


def test_tls_client_with_session_reuse_servers(tmp_path):
    """Explicit TLS with verification against the interop CA, on servers
    that require TLS session reuse on data connections."""
    require_real()
    for server in REAL_TLS:
        with ftpkit.Client(server.host, server.port, user=USER, passwd=PASS, tls="explicit", cafile=server.ca) as c:
            src = tmp_path / "t.bin"
            src.write_bytes(b"tls data " * 1000)
            name = "pyclient-%d.bin" % os.getpid()
            assert c.upload(src, name).size == 9000
            assert c.download(name, tmp_path / "back.bin").size == 9000
            assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
            c.delete(name)
            (tmp_path / "back.bin").unlink()


@pytest.mark.parametrize("server", REAL_IMPLICIT, ids=lambda s: s.name)
def test_implicit_tls_servers(server, tmp_path):
    """Implicit FTPS (which ftplib lacks), verified against the interop CA;
    a client that waits for a plain greeting (explicit TLS) fails there,
    since the server speaks TLS from the first byte."""
    require_real()
    data = os.urandom(300_000)
    src = tmp_path / "i.bin"
    src.write_bytes(data)
    name = "pyimplicit-%d.bin" % os.getpid()
    with ftpkit.Client(server.host, server.port, user=USER, passwd=PASS, tls="implicit", cafile=server.ca) as c:
        assert c.welcome.startswith("220")
        assert c.upload(src, name).size == len(data)
        assert c.download(name, tmp_path / "back.bin").size == len(data)
        assert (tmp_path / "back.bin").read_bytes() == data
        assert name in [e.name for e in c.list("")]
        c.delete(name)
    with pytest.raises(ftpkit.ftplib.all_errors):
        ftpkit.Client(server.host, server.port, user=USER, passwd=PASS, tls="explicit", cafile=server.ca, timeout=5)
