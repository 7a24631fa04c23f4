"""Self-test of pyftpd.py's ActiveDTP fix (run by .ci/run; standard library + pyftpdlib).

Two ftplib clients in active mode and one that keeps logging in and out share
one pyftpdlib server, as the interop suite's parallel tests do. With
pyftpdlib's own ActiveDTP a stale close() unregisters a file descriptor number
that another session reuses, and some session stalls (run with --stock to
see it fail); with pyftpd.HandOffActiveDTP every session finishes.

usage: python3 scripts/pyftpd_selftest.py [--stock]
"""
import ftplib
import hashlib
import logging
import os
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyftpdlib.authorizers import DummyAuthorizer  # noqa: E402
from pyftpdlib.handlers import FTPHandler  # noqa: E402
from pyftpdlib.servers import FTPServer  # noqa: E402

import pyftpd  # noqa: E402

ROUNDS = 60
TIMEOUT = 10


def serve(home, stock):
    authorizer = DummyAuthorizer()
    authorizer.add_user("u", "p", home, perm="elradfmwMT")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    if not stock:
        Handler.active_dtp = pyftpd.HandOffActiveDTP
    server = FTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.socket.getsockname()[1]


def active_client(port, data, errors):
    try:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", port, timeout=TIMEOUT)
        ftp.login("u", "p")
        ftp.set_pasv(False)
        want = hashlib.sha256(data).hexdigest()
        for _ in range(ROUNDS):
            got = hashlib.sha256()
            ftp.retrbinary("RETR f.bin", got.update)
            if got.hexdigest() != want:
                raise AssertionError("RETR returned other bytes")
        ftp.quit()
    except (OSError, ftplib.Error, AssertionError) as err:
        errors.append(f"active client: {err!r}")


def login_churn(port, stop, errors):
    try:
        while not stop.is_set():
            ftp = ftplib.FTP()
            ftp.connect("127.0.0.1", port, timeout=TIMEOUT)
            ftp.login("u", "p")
            ftp.voidcmd("NOOP")
            ftp.quit()
    except (OSError, ftplib.Error) as err:
        errors.append(f"login churn: {err!r}")


def main():
    quiet = logging.getLogger("pyftpdlib")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    stock = "--stock" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as home:
        data = os.urandom(64 * 1024)
        with open(os.path.join(home, "f.bin"), "wb") as f:
            f.write(data)
        server, port = serve(home, stock)
        errors, stop = [], threading.Event()
        churn = threading.Thread(target=login_churn, args=(port, stop, errors))
        clients = [
            threading.Thread(target=active_client, args=(port, data, errors))
            for _ in range(2)
        ]
        churn.start()
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        stop.set()
        churn.join()
        server.close_all()
    label = "stock ActiveDTP" if stock else "pyftpd.HandOffActiveDTP"
    if errors:
        print(f"pyftpd self-test ({label}): FAILED: {errors}")
        return 1
    print(f"pyftpd self-test ({label}): {2 * ROUNDS} active transfers beside login churn, all finished")
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(TIMEOUT)
    sys.exit(main())
