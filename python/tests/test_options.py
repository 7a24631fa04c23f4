"""The connection options beyond ftplib's, on ftpkit.Client, ftpkit.Pool
and, as keyword-only extras, ftpkit.ftplib: proxies (SOCKS5 and HTTP
CONNECT proxies started here), the server's charset (a Latin-1 pyftpdlib),
the time zone of LIST times, EPSV off, the active-mode port range and
advertised address, and the operation deadline."""

from __future__ import annotations

import datetime
import ftplib as std_ftplib
import os
import socket
import struct
import threading
import time

import pytest

import ftpkit
from conftest import PASS, USER, Server, _start_pyftpdlib
from ftpkit import ftplib


# -- loopback proxies -------------------------------------------------------


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copies bytes both ways until either side closes."""

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join()
    a.close()
    b.close()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise OSError("proxy client went away")
        out += chunk
    return out


class _Proxy:
    """A proxy on a loopback port that records where each connection asked
    to go: ``kind`` 'socks5' (no authentication, or user/password when
    ``login`` is set) or 'http' (``CONNECT``)."""

    def __init__(self, kind: str, login: tuple = None) -> None:
        self.kind = kind
        self.login = login
        self.targets: list = []
        self.logins: list = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        try:
            target = self._socks5(client) if self.kind == "socks5" else self._connect(client)
        except OSError:
            client.close()
            return
        if target is not None:
            _relay(client, target)

    def _socks5(self, client: socket.socket) -> socket.socket:
        version, count = _recv_exact(client, 2)
        methods = _recv_exact(client, count)
        want = 2 if self.login else 0
        if version != 5 or want not in methods:
            client.sendall(b"\x05\xff")
            raise OSError("no acceptable method")
        client.sendall(bytes([5, want]))
        if self.login:
            _ver, ulen = _recv_exact(client, 2)
            user = _recv_exact(client, ulen)
            (plen,) = _recv_exact(client, 1)
            password = _recv_exact(client, plen)
            self.logins.append((user.decode(), password.decode()))
            ok = (user.decode(), password.decode()) == self.login
            client.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                raise OSError("bad proxy login")
        _ver, cmd, _rsv, atyp = _recv_exact(client, 4)
        if atyp == 1:
            host = socket.inet_ntoa(_recv_exact(client, 4))
        elif atyp == 3:
            (n,) = _recv_exact(client, 1)
            host = _recv_exact(client, n).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, _recv_exact(client, 16))
        (port,) = struct.unpack("!H", _recv_exact(client, 2))
        self.targets.append((host, port))
        upstream = socket.create_connection((host, port))
        bound = upstream.getsockname()
        client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(bound[0]) + struct.pack("!H", bound[1]))
        return upstream

    def _connect(self, client: socket.socket) -> socket.socket:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                raise OSError("proxy client went away")
            head += chunk
        request = head.split(b"\r\n", 1)[0].decode()
        verb, where, _ = request.split(" ", 2)
        if verb != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            raise OSError("not CONNECT")
        host, _, port = where.rpartition(":")
        self.targets.append((host.strip("[]"), int(port)))
        upstream = socket.create_connection((host.strip("[]"), int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return upstream

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def socks5():
    proxy = _Proxy("socks5", login=("puser", "ppass"))
    yield proxy
    proxy.close()


@pytest.fixture
def http_proxy():
    proxy = _Proxy("http")
    yield proxy
    proxy.close()


# -- servers started here -----------------------------------------------------


@pytest.fixture
def latin1_server(tmp_path):
    """A pyftpdlib that reads commands and writes names in Latin-1."""
    server, _ = _start_pyftpdlib(tmp_path, tls=False, encoding="latin-1")
    yield Server("pyftpdlib-latin1", "127.0.0.1", server.address[1], home=tmp_path)
    server.close_all()


@pytest.fixture
def recording_server(tmp_path):
    """A pyftpdlib without MLSD/MLST (listings go through LIST) that
    records every command line it receives in ``.commands``."""
    from pyftpdlib.handlers import FTPHandler

    commands: list = []

    def record(self, line, cmd, arg):
        commands.append(line)
        return FTPHandler.pre_process_command(self, line, cmd, arg)

    protos = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")}
    server, _ = _start_pyftpdlib(tmp_path, tls=False, pre_process_command=record, proto_cmds=protos)
    srv = Server("pyftpdlib-recording", "127.0.0.1", server.address[1], home=tmp_path)
    srv.commands = commands
    yield srv
    server.close_all()


# -- proxies ------------------------------------------------------------------------


def test_client_through_socks5_proxy_with_login(socks5, local_plain, tmp_path):
    data = os.urandom(300_000)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    url = f"socks5://puser:ppass@127.0.0.1:{socks5.port}"
    with ftpkit.Client(local_plain.host, local_plain.port, user=USER, passwd=PASS, proxy=url) as c:
        c.upload(src, "via-socks.bin")
        c.download("via-socks.bin", tmp_path / "back.bin")
        names = [e.name for e in c.list("")]
        c.delete("via-socks.bin")
    assert (tmp_path / "back.bin").read_bytes() == data
    assert "via-socks.bin" in names
    # The control connection and each data connection (upload, download,
    # listing) went through the proxy, all to the FTP server's host.
    assert socks5.targets[0] == (local_plain.host, local_plain.port)
    assert len(socks5.targets) >= 4
    assert {host for host, _ in socks5.targets} == {local_plain.host}
    assert set(socks5.logins) == {("puser", "ppass")}


def test_socks5_proxy_refusing_the_login_fails_the_connect(socks5, local_plain):
    url = f"socks5://puser:wrong@127.0.0.1:{socks5.port}"
    with pytest.raises(ftplib.all_errors):
        ftpkit.Client(local_plain.host, local_plain.port, user=USER, passwd=PASS, proxy=url, timeout=5)
    assert socks5.logins == [("puser", "wrong")]


def test_ftplib_through_http_connect_proxy(http_proxy, local_plain):
    (local_plain.home / "proxied.txt").write_bytes(b"one\ntwo\n")
    url = f"http://127.0.0.1:{http_proxy.port}"
    with ftplib.FTP(proxy=url) as ftp:
        ftp.connect(local_plain.host, local_plain.port)
        ftp.login(USER, PASS)
        lines: list = []
        ftp.retrlines("RETR proxied.txt", lines.append)
        assert "proxied.txt" in ftp.nlst()
    assert lines == ["one", "two"]
    assert http_proxy.targets[0] == (local_plain.host, local_plain.port)
    assert len(http_proxy.targets) >= 3
    (local_plain.home / "proxied.txt").unlink()


def test_bad_proxy_url_is_a_value_error(local_plain):
    with pytest.raises(ValueError):
        ftpkit.Client(local_plain.host, local_plain.port, user=USER, passwd=PASS, proxy="gopher://x:70")


# -- charsets ------------------------------------------------------------------------


def test_latin1_names_round_trip_with_ftplib_encoding(latin1_server, tmp_path):
    name = "café-ñ.txt"
    with ftplib.FTP(encoding="latin-1") as ftp:
        ftp.connect(latin1_server.host, latin1_server.port)
        ftp.login(USER, PASS)
        ftp.storbinary("STOR " + name, __import__("io").BytesIO(b"hola"))
        ftp.mkd("año")
        ours = sorted(ftp.nlst())
        out: list = []
        ftp.retrbinary("RETR " + name, out.append)
        assert ftp.size(name) == 4
    # The server decoded the command as Latin-1: the file has that name.
    assert (latin1_server.home / name).read_bytes() == b"hola"
    assert (latin1_server.home / "año").is_dir()
    assert b"".join(out) == b"hola"
    # The standard library, told the same encoding, sees the same names.
    with std_ftplib.FTP(encoding="latin-1") as ftp:
        ftp.connect(latin1_server.host, latin1_server.port)
        ftp.login(USER, PASS)
        assert sorted(ftp.nlst()) == ours == sorted([name, "año"])


def test_latin1_names_with_client_encoding(latin1_server, tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(b"data")
    with ftpkit.Client(latin1_server.host, latin1_server.port, user=USER, passwd=PASS, encoding="latin-1") as c:
        c.mkdir("été")
        c.cwd("été")
        assert c.pwd() == "/été"
        c.upload(src, "naïve.bin")
        entries = list(c.list(""))
        assert [(e.name, e.name_bytes) for e in entries] == [("naïve.bin", b"na\xefve.bin")]
        tree = list(c.walk("/"))
        assert [d for d, _, _ in tree] == ["/", "/été"]
        c.download("naïve.bin", tmp_path / "back.bin")
    assert (latin1_server.home / "été" / "naïve.bin").read_bytes() == b"data"
    assert (tmp_path / "back.bin").read_bytes() == b"data"
    # Read as UTF-8 the same name does not decode: its bytes show escaped.
    with ftpkit.Client(latin1_server.host, latin1_server.port, user=USER, passwd=PASS) as c:
        (entry,) = c.list("/été".encode("latin-1"))
        assert entry.name_bytes == b"na\xefve.bin" and entry.name == "na\udcefve.bin"


# -- time zones, EPSV, active mode ------------------------------------------------------


def test_list_time_offset_shifts_list_times(recording_server):
    (recording_server.home / "t.txt").write_bytes(b"x")
    # Within the last six months and with a time of day, so LIST shows hh:mm.
    when = time.time() - 3 * 86400
    os.utime(recording_server.home / "t.txt", (when, when))

    def listed(**kw):
        with ftpkit.Client(recording_server.host, recording_server.port, user=USER, passwd=PASS, **kw) as c:
            (entry,) = [e for e in c.list("") if e.name == "t.txt"]
            return entry.modified

    utc = listed()
    assert abs(utc.timestamp() - when) < 61  # pyftpdlib lists times in UTC
    assert listed(list_time_offset="+02:00") == utc - datetime.timedelta(hours=2)
    assert listed(list_time_offset=-5 * 3600) == utc + datetime.timedelta(hours=5)
    # Learned from MDTM: the server's LIST times are UTC.
    assert listed(list_time_offset="auto") == utc
    assert any(c.startswith("MDTM") for c in recording_server.commands)
    with pytest.raises(ValueError):
        listed(list_time_offset="tomorrow")


def test_use_epsv_off_sends_pasv_only(recording_server):
    (recording_server.home / "p.txt").write_bytes(b"x")
    for kw, want, other in (({}, "EPSV", "PASV"), ({"use_epsv": False}, "PASV", "EPSV")):
        recording_server.commands.clear()
        with ftplib.FTP(**kw) as ftp:
            ftp.connect(recording_server.host, recording_server.port)
            ftp.login(USER, PASS)
            ftp.retrbinary("RETR p.txt", lambda b: None)
        verbs = [c.split(" ")[0] for c in recording_server.commands]
        assert want in verbs and other not in verbs, verbs


def _free_port_range(n: int) -> tuple:
    """`n` consecutive loopback ports free at the moment."""
    for first in range(46100, 60000, 97):
        try:
            socks = []
            for p in range(first, first + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first, first + n - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.skip("no free port range")


def test_active_mode_port_range(recording_server, tmp_path):
    (recording_server.home / "a.bin").write_bytes(b"y" * 5000)
    first, last = _free_port_range(4)
    with ftpkit.Client(
        recording_server.host, recording_server.port, user=USER, passwd=PASS, passive=False, active_ports=(first, last)
    ) as c:
        for i in range(3):
            c.download("a.bin", tmp_path / f"a{i}.bin")
    ports = []
    for line in recording_server.commands:
        verb, _, arg = line.partition(" ")
        if verb == "PORT":
            n = arg.split(",")
            ports.append(int(n[4]) * 256 + int(n[5]))
        elif verb == "EPRT":
            ports.append(int(arg.split(arg[0])[3]))
    assert len(ports) >= 3 and all(first <= p <= last for p in ports), ports
    assert (tmp_path / "a2.bin").read_bytes() == b"y" * 5000


def test_active_mode_advertised_address(recording_server):
    (recording_server.home / "b.bin").write_bytes(b"z")
    with ftplib.FTP(active_address="127.0.0.9") as ftp:
        ftp.connect(recording_server.host, recording_server.port)
        ftp.login(USER, PASS)
        ftp.set_pasv(False)
        # pyftpdlib refuses a PORT to an address other than the client's:
        # the advertised address is the one given, not the local one.
        with pytest.raises(ftplib.error_perm):
            ftp.retrbinary("RETR b.bin", lambda b: None)
    sent = [c for c in recording_server.commands if c.split(" ")[0] in ("PORT", "EPRT")]
    assert sent and all("127,0,0,9" in c or "|127.0.0.9|" in c for c in sent), sent


# -- deadlines and checks --------------------------------------------------------------


def test_deadline_ends_a_slow_download(local_slow, tmp_path):
    (local_slow.home / "slow.bin").write_bytes(os.urandom(4 << 20))
    with ftpkit.Client(local_slow.host, local_slow.port, user=USER, passwd=PASS, deadline=1.0, keepalive=None) as c:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            c.download("slow.bin", tmp_path / "slow.bin", retries=0)
        # 4 MiB at 1 MiB/s would take 4 s: the deadline ended it first.
        assert time.monotonic() - start < 3.5
    (local_slow.home / "slow.bin").unlink()


@pytest.mark.parametrize(
    "kw",
    [
        {"active_ports": (2000, 1000)},
        {"active_address": "not-an-ip"},
        {"list_time_offset": "+25:00"},
        {"list_time_offset": 15 * 3600},
        {"no_such_option": 1},
    ],
)
def test_bad_options_are_value_errors(local_plain, kw):
    with pytest.raises((ValueError, TypeError)):
        ftpkit.Pool(local_plain.host, local_plain.port, user=USER, passwd=PASS, **kw)


def test_pool_takes_the_same_options(socks5, latin1_server):
    url = f"socks5h://puser:ppass@127.0.0.1:{socks5.port}"
    pool = ftpkit.Pool(latin1_server.host, latin1_server.port, user=USER, passwd=PASS, encoding="latin-1", proxy=url)
    with pool.get() as c:
        c.mkdir("ü")
        assert [e.name for e in c.list("")] == ["ü"]
    assert (latin1_server.home / "ü").is_dir()
    assert socks5.targets and socks5.targets[0] == (latin1_server.host, latin1_server.port)


def test_trust_pasv_address(tmp_path):
    """A server whose 227 reply names another address (pyftpdlib's
    masquerade_address): ignored by default, the data connection goes to the
    control connection's peer; trusted on request, the connection goes
    there, where nothing listens."""
    (tmp_path / "m.bin").write_bytes(b"m" * 1000)
    server, _ = _start_pyftpdlib(tmp_path, tls=False, masquerade_address="127.0.0.3")
    try:
        kw = dict(user=USER, passwd=PASS, use_epsv=False, timeout=5)
        with ftpkit.Client("127.0.0.1", server.address[1], **kw) as c:
            assert c.download("m.bin", tmp_path / "ok.bin", retries=0).size == 1000
        with ftpkit.Client("127.0.0.1", server.address[1], trust_pasv_address=True, **kw) as c:
            with pytest.raises(ftplib.all_errors):
                c.download("m.bin", tmp_path / "no.bin", retries=0)
        assert not (tmp_path / "no.bin").exists()
    finally:
        server.close_all()


def test_ftplib_attributes_set_before_connect(recording_server):
    """ftplib scripts set ``passiveserver`` to a plain 0 before connecting:
    the connection is then active from the first transfer."""
    (recording_server.home / "c.bin").write_bytes(b"c" * 100)
    ftp = ftplib.FTP()
    ftp.passiveserver = 0
    ftp.connect(recording_server.host, recording_server.port)
    ftp.login(USER, PASS)
    out: list = []
    ftp.retrbinary("RETR c.bin", out.append)
    ftp.quit()
    assert b"".join(out) == b"c" * 100
    verbs = [c.split(" ")[0] for c in recording_server.commands]
    assert ("PORT" in verbs or "EPRT" in verbs) and "PASV" not in verbs and "EPSV" not in verbs, verbs
