"""The engine's own file paths behind ftpkit.ftplib: retrbinary into a real
file's write() and storbinary from a real file move the bytes in Rust with
the GIL released. The file and the file object must end as ftplib leaves
them, and Ctrl-C (SIGINT to a process mid-transfer) must interrupt them."""

from __future__ import annotations

import ftplib as std_ftplib
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import PASS, USER
from ftpkit import ftplib as kit_ftplib

DATA = os.urandom(3 << 20) + b"end"


@pytest.fixture
def spy(monkeypatch):
    """Records the descriptors ftpkit.ftplib hands to the engine."""
    seen = []
    real = kit_ftplib._fd_of

    def record(fp, writing):
        fd = real(fp, writing)
        seen.append(fd)
        return fd

    monkeypatch.setattr(kit_ftplib, "_fd_of", record)
    return seen


def _login(mod, server):
    ftp = mod.FTP()
    ftp.connect(server.host, server.port, timeout=30)
    ftp.login(USER, PASS)
    return ftp


@pytest.mark.parametrize("rest", [None, 1000])
def test_retrbinary_into_a_file_ends_as_with_ftplib(local_plain, tmp_path, spy, rest):
    (local_plain.home / "fast-down.bin").write_bytes(DATA)
    results = {}
    for mod in (std_ftplib, kit_ftplib):
        ftp = _login(mod, local_plain)
        path = tmp_path / (mod.__name__ + ".out")
        with open(path, "wb") as f:
            f.write(b"head")  # still in the file object's buffer
            resp = ftp.retrbinary("RETR fast-down.bin", f.write, rest=rest)
            after = f.tell()
            f.write(b"tail")
        results[mod] = (resp[:3], after, path.read_bytes())
        ftp.quit()
    assert results[kit_ftplib] == results[std_ftplib]
    body = DATA if rest is None else DATA[rest:]
    assert results[kit_ftplib][2] == b"head" + body + b"tail"
    assert [fd for fd in spy if fd is not None], "the engine did not write the file itself"


def test_retrbinary_appends_to_a_file_opened_for_append(local_plain, tmp_path, spy):
    (local_plain.home / "fast-append.bin").write_bytes(DATA)
    path = tmp_path / "appended"
    path.write_bytes(b"old")
    ftp = _login(kit_ftplib, local_plain)
    with open(path, "ab") as f:
        ftp.retrbinary("RETR fast-append.bin", f.write)
        assert f.tell() == 3 + len(DATA)
    ftp.quit()
    assert path.read_bytes() == b"old" + DATA
    assert spy and spy[-1] is not None


@pytest.mark.parametrize("rest", [None, 7])
def test_storbinary_from_a_file_mid_way_ends_as_with_ftplib(local_plain, tmp_path, spy, rest):
    src = tmp_path / "src.bin"
    src.write_bytes(DATA)
    results = {}
    for mod in (std_ftplib, kit_ftplib):
        ftp = _login(mod, local_plain)
        name = "fast-up-%s.bin" % mod.__name__
        with open(src, "rb") as f:
            f.read(1000)  # the file object has read ahead of its position
            resp = ftp.storbinary("STOR " + name, f, rest=rest)
            after = f.tell()
        ftp.quit()
        results[mod] = (resp[:3], after, (local_plain.home / name).read_bytes())
    assert results[kit_ftplib] == results[std_ftplib]
    assert results[kit_ftplib][1] == len(DATA)
    if rest is None:
        assert results[kit_ftplib][2] == DATA[1000:]
    assert [fd for fd in spy if fd is not None], "the engine did not read the file itself"


def test_storbinary_with_a_callback_keeps_the_block_size(local_plain, tmp_path, spy):
    src = tmp_path / "src.bin"
    src.write_bytes(DATA)
    blocks = []
    ftp = _login(kit_ftplib, local_plain)
    with open(src, "rb") as f:
        ftp.storbinary("STOR fast-cb.bin", f, blocksize=4096, callback=lambda b: blocks.append(len(b)))
    ftp.quit()
    assert not spy, "a callback that watches the blocks must see them"
    assert max(blocks) == 4096 and sum(blocks) == len(DATA)
    assert (local_plain.home / "fast-cb.bin").read_bytes() == DATA


def test_retrbinary_into_a_file_missing_remote_raises_as_ftplib(local_plain, tmp_path):
    errors = []
    for mod in (std_ftplib, kit_ftplib):
        ftp = _login(mod, local_plain)
        with open(tmp_path / "missing", "wb") as f, pytest.raises(mod.error_perm) as e:
            ftp.retrbinary("RETR no-such-file", f.write)
        errors.append(str(e.value)[:3])
        assert ftp.pwd() == "/"
        ftp.quit()
    assert errors[0] == errors[1] == "550"


CHILD = textwrap.dedent(
    """
    import signal, sys, time
    # Python raises KeyboardInterrupt on SIGINT only if the parent left
    # SIGINT at its default; a test run started in the background inherits
    # it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from ftpkit import ftplib
    host, port, user, passwd, op, local, remote = sys.argv[1:8]
    ftp = ftplib.FTP()
    ftp.connect(host, int(port), timeout=60)
    ftp.login(user, passwd)
    print("ready", flush=True)
    try:
        if op == "down":
            with open(local, "wb") as f:
                ftp.retrbinary("RETR " + remote, f.write)
        else:
            with open(local, "rb") as f:
                ftp.storbinary("STOR " + remote, f)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    start = time.monotonic()
    try:
        print("pwd", ftp.pwd(), flush=True)
        ftp.quit()
    except ftplib.all_errors as e:
        print("closed", type(e).__name__, flush=True)
    print("after %.2f" % (time.monotonic() - start), flush=True)
    """
)


@pytest.mark.parametrize("op", ["down", "up"])
def test_sigint_mid_transfer_raises_keyboardinterrupt(local_slow, tmp_path, op):
    size = 32 << 20  # 32 s at the server's 1 MiB/s
    local = tmp_path / "local.bin"
    remote = "sigint-%s.bin" % op
    if op == "down":
        (local_slow.home / remote).write_bytes(os.urandom(1 << 20) * 32)
        moved = local
    else:
        local.write_bytes(os.urandom(1 << 20) * 32)
        moved = local_slow.home / remote
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, local_slow.host, str(local_slow.port), USER, PASS, op, str(local), remote],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while not (moved.exists() and moved.stat().st_size > 0):
            assert time.monotonic() < deadline, "the transfer did not start"
            time.sleep(0.05)
        time.sleep(0.3)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
        waited = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
    lines = out.splitlines()
    assert child.returncode == 0, err
    assert lines[0] == "interrupted", (out, err)
    # Interrupted well before the 32 s the transfer needs.
    assert waited < 10, out
    assert moved.stat().st_size < size
    # The connection is left usable (or, failing that, cleanly closed).
    assert lines[1] == "pwd /" or lines[1].startswith("closed"), out
