"""Fixtures: pyftpdlib servers started by the tests (plain and explicit TLS,
with a CA made for the run) and the real servers of the interop suite
(/tmp/ftpkit-interop/servers.env, or FTPKIT_INTEROP_ENV)."""

from __future__ import annotations

import datetime
import os
import shlex
import ssl
import threading
from pathlib import Path

import pytest

USER = "ftpkit"
PASS = "ftpkit-pass"
ENV_FILE = os.environ.get("FTPKIT_INTEROP_ENV", "/tmp/ftpkit-interop/servers.env")


class Server:
    """Where a server listens and how to trust it."""

    def __init__(self, name, host, port, tls=False, ca=None, home=None):
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls
        self.ca = ca
        self.home = home

    def context(self):
        """An ssl context that trusts the server's CA (for stdlib ftplib)."""
        return ssl.create_default_context(cafile=self.ca)

    def __repr__(self):
        return f"{self.name}@{self.host}:{self.port}"


def _make_ca(tmp: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ftpkit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = tmp / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_pem = tmp / "server.pem"
    server_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return str(ca_pem), str(server_pem)


def _start_pyftpdlib(home: Path, tls: bool, certfile=None, rate=None, **handler):
    """A pyftpdlib server on a loopback port; `handler` sets attributes of
    its handler class (encoding, proto_cmds, methods...)."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler, TLS_FTPHandler
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASS, str(home), perm="elradfmwMT")
    if tls:

        class Handler(TLS_FTPHandler):
            pass

        Handler.certfile = certfile
        Handler.tls_control_required = False
        Handler.tls_data_required = False
    else:

        class Handler(FTPHandler):
            pass

    Handler.authorizer = authorizer
    if rate is not None:
        # Data connections at `rate` bytes per second each way: transfers
        # long enough to interrupt.

        class Slow(ThrottledDTPHandler):
            read_limit = rate
            write_limit = rate

        Handler.dtp_handler = Slow
    Handler.banner = "ftpkit test server ready."
    for key, value in handler.items():
        setattr(Handler, key, value)
    from pyftpdlib.ioloop import IOLoop

    # Each server its own loop: two servers on the shared default loop,
    # served from two threads, would mix their connections.
    server = FTPServer(("127.0.0.1", 0), Handler, ioloop=IOLoop())
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return _make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def local_plain(tmp_path_factory):
    home = tmp_path_factory.mktemp("home-plain")
    server, _ = _start_pyftpdlib(home, tls=False)
    yield Server("pyftpdlib-local", "127.0.0.1", server.address[1], home=home)
    server.close_all()


@pytest.fixture(scope="session")
def local_slow(tmp_path_factory):
    """A plain pyftpdlib whose data connections move 1 MiB/s."""
    home = tmp_path_factory.mktemp("home-slow")
    server, _ = _start_pyftpdlib(home, tls=False, rate=1 << 20)
    yield Server("pyftpdlib-slow", "127.0.0.1", server.address[1], home=home)
    server.close_all()


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory, certs):
    ca, pem = certs
    home = tmp_path_factory.mktemp("home-tls")
    server, _ = _start_pyftpdlib(home, tls=True, certfile=pem)
    yield Server("pyftpdlib-local-tls", "127.0.0.1", server.address[1], tls=True, ca=ca, home=home)
    server.close_all()


def _read_env():
    env = {}
    if not os.path.exists(ENV_FILE):
        return env
    for line in Path(ENV_FILE).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = " ".join(shlex.split(value))
    return env


def _servers(key: str, tls: bool):
    env = _read_env()
    out = []
    for item in env.get(key, "").split():
        name, _, addr = item.partition("=")
        host, _, port = addr.rpartition(":")
        out.append(Server(name, host, int(port), tls=tls, ca=env.get("FTPKIT_INTEROP_CA")))
    return out


REAL_PLAIN = _servers("FTPKIT_INTEROP_SERVERS", False)
REAL_TLS = _servers("FTPKIT_INTEROP_TLS_SERVERS", True)
REAL_IMPLICIT = _servers("FTPKIT_INTEROP_IMPLICIT_SERVERS", True)


def require_real():
    """Skips when the real servers are not there, except in CI, where that fails."""
    if not REAL_PLAIN:
        if os.environ.get("CI"):
            pytest.fail(f"CI: the interop servers' env file {ENV_FILE} is missing")
        pytest.skip("no interop servers (scripts/interop-servers.sh start)")
