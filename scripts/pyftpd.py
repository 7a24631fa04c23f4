"""pyftpdlib server for ftpkit's interop suite (started by interop-servers.sh).

usage: pyftpd.py PORT HOME USER PASSWORD PASV_FROM PASV_TO [CERT KEY]
With CERT and KEY, TLS is required on control and data (explicit FTPS).
"""
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


class HandOffActiveDTP(FTPHandler.active_dtp):
    """pyftpdlib's ActiveDTP, done once its connection is handed over.

    After PORT/EPRT, ActiveDTP connects to the client and hands its socket to
    a DTPHandler, but stays open itself. The next PORT/EPRT closes it, and that
    close unregisters the file descriptor *number* it once had from the
    server's single event loop. By then the transfer has ended and the number
    may belong to another session's new control or data connection, which
    then never gets another event: that session stalls until the client
    gives up (seen as a login, STOR, APPE or RETR that never answers when two
    clients use active mode at once). Marking the dispatcher closed after the
    hand-over makes that later close() a no-op; the DTPHandler owns the socket.
    """

    def handle_connect(self):
        super().handle_connect()
        self._fileno = None
        self._closed = True


def main():
    port, home, user, password, pasv_from, pasv_to = sys.argv[1:7]
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, home, perm="elradfmwMT")
    handler = FTPHandler
    if len(sys.argv) > 8:
        from pyftpdlib.handlers import TLS_FTPHandler

        handler = TLS_FTPHandler
        handler.certfile = sys.argv[7]
        handler.keyfile = sys.argv[8]
        handler.tls_control_required = True
        handler.tls_data_required = True
    handler.active_dtp = HandOffActiveDTP
    handler.authorizer = authorizer
    handler.passive_ports = range(int(pasv_from), int(pasv_to) + 1)
    handler.masquerade_address = None
    server = FTPServer(("127.0.0.1", int(port)), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
