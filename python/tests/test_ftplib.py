"""ftpkit.ftplib against the standard library's ftplib: the same script runs
with each module on the same server, and every call's result (return value,
or exception class and message) must be the same."""

from __future__ import annotations

import contextlib
import ftplib as std_ftplib
import io
import os
import signal
import ssl
import uuid

import pytest

from conftest import PASS, REAL_PLAIN, REAL_TLS, USER, require_real
from ftpkit import ftplib as kit_ftplib

DATA = bytes(range(256)) * 300 + b"tail"


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception is the result
        return ("raised", type(e).__name__, str(e))


def scenario(mod, server, workdir, strict):
    """Runs every ftplib call worth comparing; returns what each gave."""
    out = []

    def rec(label, fn):
        out.append((label, _outcome(fn)))

    def code(resp):
        # Real servers put timings and counters in some replies: compare codes.
        return resp if strict else resp[:3]

    if server.tls:
        ftp = mod.FTP_TLS(context=server.context(), timeout=20)
    else:
        ftp = mod.FTP(timeout=20)
    with ftp:
        rec("connect", lambda: code(ftp.connect(server.host, server.port)))
        rec("getwelcome", lambda: code(ftp.getwelcome()))
        rec("login", lambda: code(ftp.login(USER, PASS)))
        if server.tls:
            rec("prot_p", lambda: ftp.prot_p())
        rec("bad login cmd", lambda: ftp.sendcmd("NOOP\r\nDELE x"))
        rec("noop", lambda: ftp.voidcmd("NOOP")[:3])
        rec("mkd", lambda: ftp.mkd(workdir))
        rec("cwd", lambda: ftp.cwd(workdir))
        rec("pwd", lambda: ftp.pwd().endswith("/" + workdir))
        rec("storbinary", lambda: code(ftp.storbinary("STOR a.bin", io.BytesIO(DATA), blocksize=1000)))
        rec("size", lambda: ftp.size("a.bin"))
        chunks = []
        rec("retrbinary", lambda: code(ftp.retrbinary("RETR a.bin", chunks.append)))
        rec("retrbinary data", lambda: b"".join(chunks) == DATA and max(map(len, chunks)) <= 8192)
        tail = []
        rec("retrbinary rest", lambda: code(ftp.retrbinary("RETR a.bin", tail.append, rest=1000)))
        rec("retrbinary rest data", lambda: b"".join(tail) == DATA[1000:])
        rec("storlines", lambda: code(ftp.storlines("STOR t.txt", io.BytesIO(b"one\ntwo\r\nthree"))))
        rec("size ascii", lambda: ftp.size("t.txt"))
        lines = []
        rec("retrlines", lambda: code(ftp.retrlines("RETR t.txt", lines.append)))
        rec("retrlines data", lambda: lines)
        rec("nlst", lambda: sorted(os.path.basename(n) for n in ftp.nlst()))
        listing = []
        rec("dir", lambda: ftp.dir(listing.append))
        rec("dir lines", lambda: len(listing))
        rec("mlsd", lambda: sorted((n, f.get("type")) for n, f in ftp.mlsd()))
        rec("rename", lambda: ftp.rename("a.bin", "b.bin"))
        rec("size missing", lambda: ftp.size("missing.bin"))
        rec("retr missing", lambda: ftp.retrbinary("RETR missing.bin", lambda b: None))
        rec("cwd missing", lambda: ftp.cwd("missing-dir"))
        rec("bogus", lambda: ftp.sendcmd("BOGUSCMD"))
        rec("newline", lambda: ftp.sendcmd("NOOP\nNOOP"))

        def raw_download():
            with ftp.transfercmd("RETR b.bin") as conn:
                got = b""
                while True:
                    block = conn.recv(4096)
                    if not block:
                        break
                    got += block
            return got == DATA, code(ftp.voidresp())

        rec("voidcmd type", lambda: ftp.voidcmd("TYPE I"))
        rec("transfercmd recv", raw_download)

        def raw_upload():
            conn, size = ftp.ntransfercmd("STOR c.bin")
            conn.sendall(DATA[:5000])
            conn.close()
            return size, code(ftp.voidresp()), ftp.size("c.bin")

        rec("ntransfercmd sendall", raw_upload)

        def makefile_download():
            conn = ftp.transfercmd("RETR c.bin")
            with conn.makefile("rb") as f:
                got = f.read()
            conn.close()
            return got == DATA[:5000], code(ftp.voidresp())

        rec("makefile", makefile_download)

        def put_get():
            ftp.putcmd("NOOP")
            return ftp.getresp()[:3], ftp.lastresp

        rec("putcmd getresp", put_get)
        for name in ("b.bin", "c.bin", "t.txt"):
            rec("delete " + name, lambda name=name: ftp.delete(name))
        rec("delete missing", lambda: ftp.delete("missing.bin"))
        rec("cdup", lambda: ftp.cwd(".."))
        rec("rmd", lambda: ftp.rmd(workdir))
        rec("quit", lambda: ftp.quit())
    return out


def _compare(server, strict):
    workdir = "pyt-" + uuid.uuid4().hex[:8]
    std = scenario(std_ftplib, server, workdir, strict)
    kit = scenario(kit_ftplib, server, workdir, strict)
    for (label, a), (label2, b) in zip(std, kit):
        assert label == label2
        assert a == b, f"{server}: {label}: ftplib gave {a!r}, ftpkit.ftplib gave {b!r}"
    assert len(std) == len(kit)
    return kit


def test_same_results_as_ftplib_local(local_plain):
    kit = _compare(local_plain, strict=True)
    # The comparison is not vacuous: the transfers did move the data.
    assert ("retrbinary data", ("ok", True)) in kit
    assert ("retrlines data", ("ok", ["one", "two", "three"])) in kit
    assert any(label == "size missing" and r[0] == "raised" and r[1] == "error_perm" for label, r in kit)


def test_same_results_as_ftplib_local_tls(local_tls):
    kit = _compare(local_tls, strict=True)
    assert ("prot_p", ("ok", "200 Protection set to Private")) in kit


@pytest.mark.parametrize("server", REAL_PLAIN, ids=lambda s: s.name)
def test_same_results_as_ftplib_real(server):
    require_real()
    _compare(server, strict=False)


@pytest.mark.parametrize("server", REAL_TLS, ids=lambda s: s.name)
def test_real_tls_servers(server):
    """With TLS verification on. Servers that require TLS session reuse on
    data connections (vsftpd's require_ssl_reuse, proftpd) refuse the
    standard library's data connections: there ftpkit.ftplib must succeed
    where ftplib fails; elsewhere both must agree."""
    require_real()
    workdir = "pyt-" + uuid.uuid4().hex[:8]
    kit = scenario(kit_ftplib, server, workdir, strict=False)
    results = dict(kit)
    assert results["retrbinary data"] == ("ok", True), kit
    assert results["transfercmd recv"][0] == "ok", kit
    std = scenario(std_ftplib, server, workdir + "s", strict=False)
    std_results = dict(std)
    if std_results["retrbinary data"] == ("ok", True):
        for (label, a), (_, b) in zip(std, kit):
            if label in ("mkd", "pwd", "rmd", "cwd"):
                continue
            assert a == b, f"{server}: {label}: ftplib gave {a!r}, ftpkit.ftplib gave {b!r}"
    else:
        # ftplib could not open a data connection: session reuse required.
        assert std_results["storbinary"][0] == "raised"
        with contextlib.suppress(Exception):
            cleanup = kit_ftplib.FTP_TLS(server.host, timeout=10, context=server.context())
            cleanup.connect(server.host, server.port)
            cleanup.login(USER, PASS)
            cleanup.rmd(workdir + "s")
            cleanup.quit()


def test_tls_verifies_certificates_by_default(local_tls):
    """ftplib's FTP_TLS without a context trusts any certificate; ftpkit's
    verifies it, so a server whose CA is unknown is refused."""
    ftp = kit_ftplib.FTP_TLS(timeout=10)
    ftp.connect(local_tls.host, local_tls.port)
    with pytest.raises(ssl.SSLError):
        ftp.login(USER, PASS)
    ftp.close()
    # The standard library accepts it (the difference the README documents).
    std = std_ftplib.FTP_TLS(timeout=10)
    std.connect(local_tls.host, local_tls.port)
    assert std.login(USER, PASS).startswith("230")
    std.quit()


def test_debug_output_format(local_plain, capsys):
    for mod in (std_ftplib, kit_ftplib):
        ftp = mod.FTP()
        ftp.connect(local_plain.host, local_plain.port)
        ftp.set_debuglevel(1)
        ftp.login(USER, PASS)
        ftp.pwd()
        ftp.quit()
    out = capsys.readouterr().out.splitlines()
    half = len(out) // 2
    assert out[:half] == out[half:]
    assert "*cmd* 'PASS ***********'" in out


def test_ctrl_c_aborts_transfer_and_leaves_connection_usable(local_plain):
    # KeyboardInterrupt on SIGINT, even in a test run started in the
    # background (which inherits SIGINT ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_aborts_transfer(local_plain)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_aborts_transfer(local_plain):
    big = os.urandom(1 << 20) * 16
    (local_plain.home / "big.bin").write_bytes(big)
    ftp = kit_ftplib.FTP()
    ftp.connect(local_plain.host, local_plain.port)
    ftp.login(USER, PASS)
    got = []

    def callback(block):
        got.append(len(block))
        if len(got) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        ftp.retrbinary("RETR big.bin", callback)
    assert 3 <= len(got) < len(big) // 8192
    assert ftp.pwd() == "/"
    chunks = []
    ftp.retrbinary("RETR big.bin", chunks.append, blocksize=1 << 16)
    assert b"".join(chunks) == big
    ftp.quit()
    (local_plain.home / "big.bin").unlink()


def test_module_functions_match():
    cases = [
        ("parse150", "150 Opening BINARY mode data connection for x (1234 bytes)"),
        ("parse150", "150 ok"),
        ("parse150", "226 no"),
        ("parse227", "227 Entering Passive Mode (10,0,0,1,4,1)."),
        ("parse227", "227 nothing"),
        ("parse227", "200 no"),
        ("parse257", '257 "/a ""b""" created'),
        ("parse257", "257 no quotes"),
        ("parse257", "250 no"),
    ]
    for name, arg in cases:
        a = _outcome(lambda: getattr(std_ftplib, name)(arg))
        b = _outcome(lambda: getattr(kit_ftplib, name)(arg))
        assert a == b, (name, arg, a, b)
    for resp in ["229 Entering Extended Passive Mode (|||6446|)", "229 (|||x)", "229 nothing", "200 x"]:
        a = _outcome(lambda: std_ftplib.parse229(resp, ("1.2.3.4", 21)))
        b = _outcome(lambda: kit_ftplib.parse229(resp, ("1.2.3.4", 21)))
        assert a == b, (resp, a, b)
    for name in ("Error", "error_reply", "error_temp", "error_perm", "error_proto"):
        kit_cls = getattr(kit_ftplib, name)
        assert [c.__name__ for c in kit_cls.__mro__] == [c.__name__ for c in getattr(std_ftplib, name).__mro__]
    assert kit_ftplib.all_errors[1:] == std_ftplib.all_errors[1:]
    f = kit_ftplib.FTP()
    assert f.sanitize("PASS secret") == std_ftplib.FTP().sanitize("PASS secret")


def test_api_surface_matches():
    for cls in ("FTP", "FTP_TLS"):
        std_cls = getattr(std_ftplib, cls)
        kit_cls = getattr(kit_ftplib, cls)
        public = [n for n in dir(std_cls) if not n.startswith("_")]
        missing = [n for n in public if not hasattr(kit_cls, n)]
        assert not missing, (cls, missing)


@pytest.mark.parametrize("mod", [std_ftplib, kit_ftplib], ids=["ftplib", "ftpkit"])
def test_ftpcp_copies_between_servers(mod, local_plain, local_tls):
    """Server-to-server copy (PASV on one, PORT and STOR on the other), which
    needs replies read apart from their commands (getresp/voidresp)."""
    name = "fxp-%s.bin" % mod.__name__.replace(".", "-")
    payload = os.urandom(200_000)
    (local_plain.home / name).write_bytes(payload)
    source = mod.FTP()
    source.connect(local_plain.host, local_plain.port)
    source.login(USER, PASS)
    target = mod.FTP()
    target.connect(local_tls.host, local_tls.port)
    target.login(USER, PASS)
    mod.ftpcp(source, name, target)
    assert source.voidcmd("NOOP").startswith("200")
    assert target.size(name) == len(payload)
    source.quit()
    target.quit()
    assert (local_tls.home / name).read_bytes() == payload
