"""A drop-in for the standard library's :mod:`ftplib`, on the ftpkit engine.

``from ftpkit import ftplib`` runs code written for :mod:`ftplib` unchanged:
the same classes (:class:`FTP`, :class:`FTP_TLS`), methods, attributes,
module functions and exception hierarchy, the same return values and the
same exceptions for the same replies, and debug output in the same format.

Where :mod:`ftplib` is unsafe, ftpkit's safe default wins:

* :class:`FTP_TLS` verifies the server's certificate and host name (against
  the system's trust store, or the CA certificates loaded in the ``context``
  passed in); :mod:`ftplib` verifies nothing unless handed a context.
* Data connections under ``PROT P`` resume the control connection's TLS
  session, so servers that require it (vsftpd's ``require_ssl_reuse``,
  proftpd's default) work.
* Transfers are checked: a download shorter than the size the server
  announced raises instead of passing silently.

Other differences are listed in the README's Python section.
"""

from __future__ import annotations

import codecs
import io
import re
import socket
import ssl
import sys
from typing import Any, Callable, Iterator, Optional, Tuple

from . import _native

__all__ = [
    "FTP",
    "FTP_TLS",
    "Error",
    "error_reply",
    "error_temp",
    "error_perm",
    "error_proto",
    "all_errors",
    "parse150",
    "parse227",
    "parse229",
    "parse257",
    "ftpcp",
    "print_line",
    "FTP_PORT",
    "MAXLINE",
    "CRLF",
    "B_CRLF",
]

MSG_OOB = 0x1
FTP_PORT = 21
MAXLINE = 8192
CRLF = "\r\n"
B_CRLF = b"\r\n"
KEEPALIVE = 15.0
"""The default TCP keepalive interval on the control connection, in seconds."""


class Error(Exception):
    """Base of every ftplib error."""


class error_reply(Error):
    """An unexpected reply."""


class error_temp(Error):
    """A 4xx reply: a transient failure."""


class error_perm(Error):
    """A 5xx reply: a permanent failure."""


class error_proto(Error):
    """A reply that breaks the protocol."""


all_errors = (Error, OSError, EOFError, ssl.SSLError)

_GLOBAL_DEFAULT_TIMEOUT = getattr(socket, "_GLOBAL_DEFAULT_TIMEOUT", object())


def _reply_error(resp: str) -> Exception:
    first = resp[:1]
    if first == "4":
        return error_temp(resp)
    if first == "5":
        return error_perm(resp)
    if first in ("1", "2", "3"):
        return error_reply(resp)
    return error_proto(resp)


def _convert(err: Exception, encoding: str) -> Exception:
    """The ftplib exception for a native error."""
    kind, message, code, lines = err.args
    if kind == "reply" and lines is not None:
        return _reply_error(_join(lines, encoding))
    if kind == "proto":
        return error_proto(message)
    if kind == "invalid":
        return ValueError(message)
    if kind == "timeout":
        return TimeoutError(message)
    if kind == "tls":
        if "certificate" in message.lower() or "name" in message.lower():
            return ssl.SSLCertVerificationError(message)
        return ssl.SSLError(message)
    if kind == "eof":
        return EOFError(message)
    if kind == "io":
        return OSError(code, message) if code else OSError(message)
    return Error(message)


# Built-in file types whose write()/read() may take larger blocks than asked:
# the file ends up with the same bytes in fewer calls.
_FILE_TYPES = (io.BufferedWriter, io.BufferedReader, io.BufferedRandom, io.FileIO, io.BytesIO)
_BIG_BLOCK = 1 << 20


def _file_block(callback: Any, blocksize: int) -> int:
    """The block size for a callback that is a built-in file's ``write``."""
    owner = getattr(callback, "__self__", None)
    if type(owner) in _FILE_TYPES and getattr(callback, "__name__", "") == "write":
        return max(blocksize, _BIG_BLOCK)
    return blocksize


# Built-in files whose descriptor the engine may write or read itself.
_FD_TYPES = (io.BufferedWriter, io.BufferedRandom, io.FileIO, io.BufferedReader)


def _fd_of(fp: Any, writing: bool) -> Optional[int]:
    """The descriptor of a real, open built-in file that the engine may move
    data to (``writing``) or from itself, with nothing buffered in between;
    ``None`` for anything else (the blocks then go through Python)."""
    if type(fp) not in _FD_TYPES or not hasattr(_native.Conn, "retr_to_fd"):
        return None
    if type(getattr(fp, "raw", fp)) is not io.FileIO:
        return None  # a buffer over a socket or a custom raw stream
    try:
        if fp.closed or not (fp.writable() if writing else (fp.readable() and fp.seekable())):
            return None
        fd = fp.fileno()
        if fp.writable():
            fp.flush()  # bytes still in the object's buffer reach the file first
        return fd
    except (OSError, ValueError):
        return None


def _tls_args(mode: str, cafile: Optional[str], context: Optional[ssl.SSLContext], verify: bool) -> tuple:
    """TLS as the engine takes it: ``(mode, CA certificates in DER, CA
    file, verify)``, trusting the CA certificates loaded in ``context``; a
    context that verifies nothing (``CERT_NONE``) turns verification off, as
    its caller built it to."""
    ca_der: list = []
    if context is not None:
        try:
            ca_der = list(context.get_ca_certs(binary_form=True))
        except Exception:
            ca_der = []
        if context.verify_mode == ssl.CERT_NONE:
            verify = False
    return (mode, ca_der, cafile, verify)


def _charset_label(encoding: str) -> str:
    """The label the engine knows a Python codec by (``iso8859-1`` for
    ``latin-1``, ``cp1251``...); the engine keeps UTF-8 for a label it does
    not know, since the names are encoded and decoded here either way."""
    try:
        return codecs.lookup(encoding).name.replace("_", "-")
    except LookupError:
        return encoding


def _join(lines: list, encoding: str) -> str:
    return "\n".join(line.decode(encoding) for line in lines)


class _Native:
    """Calls into the native connection, converting errors to ftplib's."""

    def __init__(self, owner: "FTP") -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Callable[..., Any]:
        conn = self._owner._conn
        if conn is None:
            raise OSError("not connected: call connect() first")
        method = getattr(conn, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except _native.NativeError as e:
                raise _convert(e, self._owner.encoding) from None

        return call


class _ControlSocket:
    """Stands in for ftplib's control socket (``FTP.sock``, ``FTP.file``):
    the connection itself is held by the engine."""

    def __init__(self, owner: "FTP", peer: tuple, family: int) -> None:
        self._owner = owner
        self._peer = peer
        self.family = family

    def getpeername(self) -> tuple:
        """The server's address."""
        return self._peer

    def settimeout(self, timeout: Optional[float]) -> None:
        """Accepted for compatibility; the timeout given to connect() stays."""

    def gettimeout(self) -> Optional[float]:
        """The timeout given to connect()."""
        t = self._owner.timeout
        return t if isinstance(t, (int, float)) else None

    def close(self) -> None:
        """Closes the control connection."""
        self._owner.close()


class _DataRaw(io.RawIOBase):
    def __init__(self, conn: "_DataSocket", mode: str) -> None:
        self._conn = conn
        self._mode = mode

    def readable(self) -> bool:
        return "r" in self._mode

    def writable(self) -> bool:
        return "w" in self._mode

    def readinto(self, b: Any) -> int:
        data = self._conn.recv(len(b))
        n = len(data)
        b[:n] = data
        return n

    def write(self, b: Any) -> int:
        self._conn.sendall(bytes(b))
        return len(b)


class _DataSocket:
    """The data connection ``transfercmd`` returns: the socket methods
    callers use (``recv``, ``send``, ``sendall``, ``makefile``, ``close``,
    ``shutdown``, ``settimeout``, ``unwrap``, context manager).

    Closing it finishes the transfer and gives the control connection back;
    read the final reply with ``voidresp()``, as with ftplib."""

    def __init__(self, owner: "FTP", native: Any) -> None:
        self._owner = owner
        self._native = native
        self._timeout = None

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._native, name)(*args)
        except _native.NativeError as e:
            raise _convert(e, self._owner.encoding) from None

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes; ``b''`` at the end of the data."""
        return self._call("recv", bufsize)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """Sends all of ``data``."""
        self._call("sendall", bytes(data))

    def send(self, data: bytes, flags: int = 0) -> int:
        """Sends all of ``data`` and returns its length."""
        self._call("sendall", bytes(data))
        return len(data)

    def makefile(self, mode: str = "r", buffering: Optional[int] = None, **kw: Any) -> Any:
        """A file object over the connection (``'rb'``, ``'wb'``, ``'r'``)."""
        raw_mode = "w" if "w" in mode else "r"
        raw = _DataRaw(self, raw_mode)
        buf: Any = io.BufferedWriter(raw) if raw_mode == "w" else io.BufferedReader(raw)
        if "b" not in mode:
            buf = io.TextIOWrapper(buf, encoding=kw.get("encoding") or self._owner.encoding, newline=kw.get("newline"))
        return buf

    def settimeout(self, timeout: Optional[float]) -> None:
        """Accepted; the engine's idle timeout applies to every read and write."""
        self._timeout = timeout

    def gettimeout(self) -> Optional[float]:
        """The value last given to settimeout()."""
        return self._timeout

    def shutdown(self, how: int) -> None:
        """Ends the upload (same as close())."""
        if self._native.writing:
            self.close()

    def unwrap(self) -> "_DataSocket":
        """TLS shutdown happens in close(); returns the connection."""
        return self

    def fileno(self) -> int:
        """-1: the connection is held by the engine."""
        return -1

    def close(self) -> None:
        """Finishes the transfer and gives the control connection back."""
        if not self._native.closed:
            self._call("close")

    @property
    def closed(self) -> bool:
        """Whether the data connection is closed."""
        return self._native.closed

    def __enter__(self) -> "_DataSocket":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._native.closed:
                self._native.close(True)
        except Exception:
            pass


class FTP:
    """An FTP client with ftplib's API (see :class:`ftplib.FTP`).

    ``encoding`` (ftplib's) encodes every command line, paths included, and
    decodes every reply and listed name: ``encoding="latin-1"`` reaches a
    server whose names are in Latin-1, byte for byte. Keyword-only extras,
    which ftplib does not have (``FTP_TLS`` takes them too):

    * ``proxy``: a proxy URL for the control and every data connection,
      ``socks5://[user:pass@]host:port`` (``socks5h://`` lets the proxy
      resolve the name), ``http://host:port`` (HTTP ``CONNECT``) or
      ``ftp://host:port?login=user|site|open`` (an FTP proxy);
    * ``use_epsv``: try ``EPSV`` before ``PASV`` on IPv4 (default ``True``;
      ``False`` sends ``PASV`` only, for firewalls that break ``EPSV``);
    * ``active_ports``: ``(first, last)``, the local ports active mode
      (``set_pasv(False)``) may listen on; ``active_address``: the address
      ``PORT``/``EPRT`` advertise (a NAT's public one);
    * ``deadline``: seconds allowed for one whole operation (a transfer
      included); ``reply_timeout``: seconds allowed for one whole reply;
      ``keepalive``: TCP keepalive interval on the control connection
      (default 15 s, ``None`` turns it off).

    ``timeout`` is the idle timeout of every read and write, as in ftplib;
    ``trust_server_pasv_ipv4_address`` keeps its meaning."""

    debugging = 0
    host = ""
    port = FTP_PORT
    maxline = MAXLINE
    sock: Any = None
    file: Any = None
    welcome: Optional[str] = None
    passiveserver = True
    trust_server_pasv_ipv4_address = False
    _tls_mode = "none"

    def __init__(
        self,
        host: str = "",
        user: str = "",
        passwd: str = "",
        acct: str = "",
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        source_address: Optional[tuple] = None,
        *,
        encoding: str = "utf-8",
        proxy: Optional[str] = None,
        use_epsv: bool = True,
        active_ports: Optional[Tuple[int, int]] = None,
        active_address: Optional[str] = None,
        deadline: Optional[float] = None,
        reply_timeout: Optional[float] = None,
        keepalive: Optional[float] = KEEPALIVE,
    ) -> None:
        self.encoding = encoding
        self.source_address = source_address
        self._extras = {
            "proxy": proxy,
            "use_epsv": use_epsv,
            "active_ports": active_ports,
            "active_address": active_address,
            "deadline": deadline,
            "reply_timeout": reply_timeout,
            "keepalive": keepalive,
        }
        self.timeout = timeout
        self._conn: Any = None
        self._native = _Native(self)
        self._type = "I"
        self.af = socket.AF_INET
        self.lastresp = ""
        if host:
            self.connect(host)
            if user:
                self.login(user, passwd, acct)

    def __enter__(self) -> "FTP":
        return self

    def __exit__(self, *args: Any) -> None:
        if self._conn is not None:
            try:
                self.quit()
            except (OSError, EOFError, Error):
                pass
            finally:
                if self._conn is not None:
                    self.close()

    # -- connection ------------------------------------------------------

    def _tls(self) -> Optional[tuple]:
        """TLS as the engine takes it; plain FTP here."""
        return None

    def connect(self, host: str = "", port: int = 0, timeout: Any = -999, source_address: Optional[tuple] = None) -> str:
        """Connects to ``host`` (port 21 by default) and returns the greeting."""
        if host != "":
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        if self.timeout is not None and not self.timeout:
            raise ValueError("Non-blocking socket (timeout=0) is not supported")
        if source_address is not None:
            self.source_address = source_address
        sys.audit("ftplib.connect", self, self.host, self.port)
        t = self.timeout if isinstance(self.timeout, (int, float)) else None
        if t is None:
            t = socket.getdefaulttimeout()
        src = self.source_address[0] if self.source_address else None
        try:
            options = dict(
                self._extras,
                timeout=t,
                source_address=src or None,
                trust_pasv=bool(self.trust_server_pasv_ipv4_address),
                passive=bool(self.passiveserver),
                max_line=self.maxline,
                encoding=_charset_label(self.encoding),
            )
            self._conn = _native.Conn.connect(self.host, self.port, tls=self._tls(), options=options)
        except _native.NativeError as e:
            raise _convert(e, self.encoding) from None
        peer = tuple(self._conn.peer())
        self.af = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
        self.sock = _ControlSocket(self, peer, self.af)
        self.file = self.sock
        code, lines = self._conn.welcome()
        self.welcome = self._text(lines)
        if self.debugging:
            print("*get*", self.sanitize(self.welcome))
        self.lastresp = self.welcome[:3]
        return self.welcome

    def getwelcome(self) -> Optional[str]:
        """The server's greeting."""
        if self.debugging:
            print("*welcome*", self.sanitize(self.welcome))
        return self.welcome

    def set_debuglevel(self, level: int) -> None:
        """0: silent; 1: commands and replies; 2: every line."""
        self.debugging = level

    debug = set_debuglevel

    def set_pasv(self, val: bool) -> None:
        """Passive (true, the default) or active data connections."""
        self.passiveserver = val
        if self._conn is not None and self._conn.is_open():
            self._conn.set_passive(bool(val))

    # -- low level ---------------------------------------------------------

    def _text(self, lines: list) -> str:
        return _join(lines, self.encoding)

    def _wire(self, line: str) -> bytes:
        """A command line as sent: encoded with ``self.encoding``, as ftplib does."""
        return line.encode(self.encoding)

    def sanitize(self, s: str) -> str:
        """``repr(s)`` with a ``PASS`` argument masked."""
        if s[:5] in {"pass ", "PASS "}:
            end = len(s.rstrip("\r\n"))
            s = s[:5] + "*" * (end - 5) + s[end:]
        return repr(s)

    def _check_line(self, line: str) -> None:
        if "\r" in line or "\n" in line:
            raise ValueError("an illegal newline character should not be contained")

    def _debug_cmd(self, line: str) -> None:
        if self.debugging:
            print("*cmd*", self.sanitize(line))
        if self.debugging > 1:
            print("*put*", self.sanitize(line + CRLF))

    def _debug_resp(self, resp: str) -> None:
        if self.debugging > 1:
            for part in resp.split("\n"):
                print("*get*", self.sanitize(part))
        if self.debugging:
            print("*resp*", self.sanitize(resp))

    def _finish(self, reply: Any) -> str:
        """Prints a reply and returns its text, raising for 4xx/5xx."""
        resp = self._text(reply[1])
        self._debug_resp(resp)
        self.lastresp = resp[:3]
        if resp[:1] not in ("1", "2", "3"):
            raise _reply_error(resp)
        return resp

    def _call_reply(self, name: str, *args: Any) -> str:
        """Runs a native call that returns a reply; prints and converts it."""
        try:
            reply = getattr(self._require(), name)(*args)
        except _native.NativeError as e:
            kind, _message, _code, lines = e.args
            if kind == "reply" and lines is not None:
                resp = self._text(lines)
                self._debug_resp(resp)
                self.lastresp = resp[:3]
            raise _convert(e, self.encoding) from None
        return self._finish(reply)

    def _require(self) -> Any:
        if self._conn is None:
            raise OSError("not connected: call connect() first")
        return self._conn

    def putline(self, line: str) -> None:
        """Sends a line (the reply is read by getresp())."""
        self._check_line(line)
        sys.audit("ftplib.sendcmd", self, line)
        if self.debugging > 1:
            print("*put*", self.sanitize(line))
        self._native.putcmd(self._wire(line))

    def putcmd(self, line: str) -> None:
        """Sends a command (the reply is read by getresp())."""
        self._check_line(line)
        sys.audit("ftplib.sendcmd", self, line)
        if self.debugging:
            print("*cmd*", self.sanitize(line))
        self._native.putcmd(self._wire(line))

    def getline(self) -> str:
        """One reply, as text (multi-line replies joined with newlines)."""
        return self.getmultiline()

    def getmultiline(self) -> str:
        """One reply, lines joined with newlines, without raising for its code."""
        try:
            reply = self._require().getresp()
        except _native.NativeError as e:
            kind, _m, _c, lines = e.args
            if kind == "reply" and lines is not None:
                return self._text(lines)
            raise _convert(e, self.encoding) from None
        return self._text(reply[1])

    def getresp(self) -> str:
        """Reads a reply; 4xx raise error_temp, 5xx error_perm."""
        resp = self.getmultiline()
        if self.debugging:
            print("*resp*", self.sanitize(resp))
        self.lastresp = resp[:3]
        if resp[:1] in ("1", "2", "3"):
            return resp
        raise _reply_error(resp)

    def voidresp(self) -> str:
        """Reads a reply and requires 2xx."""
        resp = self.getresp()
        if resp[:1] != "2":
            raise error_reply(resp)
        return resp

    def sendcmd(self, cmd: str) -> str:
        """Sends a command and returns the reply text."""
        self._check_line(cmd)
        sys.audit("ftplib.sendcmd", self, cmd)
        self._debug_cmd(cmd)
        special = self._special(cmd)
        if special is not None:
            return special
        resp = self._call_reply("sendcmd", self._wire(cmd))
        self._note_type(cmd)
        return resp

    def voidcmd(self, cmd: str) -> str:
        """Sends a command and requires a 2xx reply."""
        resp = self.sendcmd(cmd)
        if resp[:1] != "2":
            raise error_reply(resp)
        return resp

    def _special(self, cmd: str) -> Optional[str]:
        """Commands the engine must know about (``PROT``), sent through it."""
        upper = cmd.strip().upper()
        if upper in ("PROT P", "PROT C") and self._conn is not None and self._conn.is_secure():
            return self._call_reply("prot_p" if upper == "PROT P" else "prot_c")
        return None

    def _note_type(self, cmd: str) -> None:
        upper = cmd.strip().upper()
        if upper.startswith("TYPE "):
            self._type = "A" if upper[5:6] == "A" else "I"

    def abort(self) -> str:
        """Sends ``ABOR`` (in band) and returns the reply (225, 226 or 426)."""
        line = "ABOR"
        sys.audit("ftplib.sendcmd", self, line)
        if self.debugging > 1:
            print("*put urgent*", self.sanitize(line))
        try:
            reply = self._require().abort()
        except _native.NativeError as e:
            kind, _m, _c, lines = e.args
            if kind == "reply" and lines is not None:
                raise error_proto(self._text(lines)) from None
            raise _convert(e, self.encoding) from None
        resp = self._text(reply[1])
        if resp[:3] not in {"426", "225", "226"}:
            raise error_proto(resp)
        return resp

    # -- active and passive setup ------------------------------------------------

    def sendport(self, host: str, port: int) -> str:
        """Sends ``PORT`` for ``host:port``."""
        numbers = host.split(".") + [repr(port // 256), repr(port % 256)]
        return self.voidcmd("PORT " + ",".join(numbers))

    def sendeprt(self, host: str, port: int) -> str:
        """Sends ``EPRT`` for ``host:port``."""
        if self.af == socket.AF_INET:
            af = 1
        elif self.af == socket.AF_INET6:
            af = 2
        else:
            raise error_proto("unsupported address family")
        return self.voidcmd("EPRT " + "|".join(["", repr(af), host, repr(port), ""]))

    def makeport(self) -> socket.socket:
        """Opens a listening socket and announces it with ``PORT``/``EPRT``."""
        local_ip = self._local_ip()
        sock = socket.create_server((local_ip, 0), family=self.af, backlog=1)
        port = sock.getsockname()[1]
        if self.af == socket.AF_INET:
            self.sendport(local_ip, port)
        else:
            self.sendeprt(local_ip, port)
        if self.timeout is not _GLOBAL_DEFAULT_TIMEOUT:
            sock.settimeout(self.timeout)
        return sock

    def _local_ip(self) -> str:
        peer = self.sock.getpeername()
        with socket.socket(self.af, socket.SOCK_DGRAM) as probe:
            probe.connect(peer[:2])
            return probe.getsockname()[0]

    def makepasv(self) -> tuple:
        """Sends ``PASV`` (``EPSV`` over IPv6) and returns ``(host, port)``;
        the 227 address is replaced by the server's unless
        ``trust_server_pasv_ipv4_address`` is set."""
        if self.af == socket.AF_INET:
            untrusted, port = parse227(self.sendcmd("PASV"))
            host = untrusted if self.trust_server_pasv_ipv4_address else self.sock.getpeername()[0]
        else:
            host, port = parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return host, port

    def ntransfercmd(self, cmd: str, rest: Optional[int] = None) -> tuple:
        """Opens a data connection for ``cmd``; returns ``(conn, size)``,
        ``size`` from the 150 reply or None."""
        self._check_line(cmd)
        if rest is not None:
            self._debug_cmd("REST %s" % rest)
        self._debug_cmd(cmd)
        conn = self._open_data(cmd, rest)
        return _DataSocket(self, conn), conn.size

    def _open_data(self, cmd: str, rest: Optional[int]) -> Any:
        try:
            return _native.Conn.open_data(self._require(), self._wire(cmd), None if rest is None else int(rest), self._type != "A")
        except _native.NativeError as e:
            kind, _m, _c, lines = e.args
            if kind == "reply" and lines is not None:
                resp = self._text(lines)
                self._debug_resp(resp)
                self.lastresp = resp[:3]
            raise _convert(e, self.encoding) from None

    def transfercmd(self, cmd: str, rest: Optional[int] = None) -> _DataSocket:
        """Like ntransfercmd() but returns only the connection."""
        return self.ntransfercmd(cmd, rest)[0]

    # -- login and transfers -------------------------------------------------

    def login(self, user: str = "", passwd: str = "", acct: str = "") -> str:
        """``USER``, ``PASS`` and ``ACCT`` as the server asks; anonymous by
        default with the password ``anonymous@``."""
        if not user:
            user = "anonymous"
        if not passwd:
            passwd = ""
        if not acct:
            acct = ""
        if user == "anonymous" and passwd in {"", "-"}:
            passwd = passwd + "anonymous@"
        resp = self.sendcmd("USER " + user)
        if resp[0] == "3":
            resp = self.sendcmd("PASS " + passwd)
        if resp[0] == "3":
            resp = self.sendcmd("ACCT " + acct)
        if resp[0] != "2":
            raise error_reply(resp)
        return resp

    def retrbinary(self, cmd: str, callback: Callable[[bytes], Any], blocksize: int = 8192, rest: Optional[int] = None) -> str:
        """Downloads in binary, calling ``callback`` with each block. When
        ``callback`` is the ``write`` of a built-in binary file, the engine
        writes the file itself (the same bytes, GIL released)."""
        self._check_line(cmd)
        self._debug_cmd("TYPE I")
        if rest is not None:
            self._debug_cmd("REST %s" % rest)
        self._debug_cmd(cmd)
        self._type = "I"
        rest = None if rest is None else int(rest)
        owner = getattr(callback, "__self__", None)
        fd = _fd_of(owner, True) if getattr(callback, "__name__", "") == "write" else None
        if fd is not None:
            # A real file's write(): the engine writes the file itself,
            # with the GIL released (the file gets the same bytes).
            try:
                return self._call_reply("retr_to_fd", self._wire(cmd), fd, rest)
            finally:
                if owner.seekable():
                    owner.seek(0, io.SEEK_CUR)  # the file object learns its new position
        blocksize = _file_block(callback, blocksize)
        return self._call_reply("retrbinary", self._wire(cmd), callback, blocksize, rest)

    def retrlines(self, cmd: str, callback: Optional[Callable[[str], Any]] = None) -> str:
        """Downloads in ASCII, calling ``callback`` with each line (default:
        print it)."""
        if callback is None:
            callback = print_line
        self._check_line(cmd)
        self._debug_cmd("TYPE A")
        self._debug_cmd(cmd)
        self._type = "A"
        encoding = self.encoding
        debugging = self.debugging

        def on_line(raw: bytes) -> None:
            line = raw.decode(encoding)
            if debugging > 2:
                print("*retr*", repr(line))
            callback(line)

        return self._call_reply("retrlines", self._wire(cmd), on_line, self.maxline)

    def storbinary(self, cmd: str, fp: Any, blocksize: int = 8192, callback: Optional[Callable[[bytes], Any]] = None, rest: Optional[int] = None) -> str:
        """Uploads ``fp`` in binary, calling ``callback`` after each block.
        From a built-in, seekable binary file and without ``callback``, the
        engine reads the file itself (GIL released) and leaves it at its end."""
        self._check_line(cmd)
        self._debug_cmd("TYPE I")
        if rest is not None:
            self._debug_cmd("REST %s" % rest)
        self._debug_cmd(cmd)
        self._type = "I"
        rest = None if rest is None else int(rest)
        fd = _fd_of(fp, False) if callback is None else None
        if fd is not None:
            # Nobody sees the blocks: the engine reads the file itself from
            # its current position, with the GIL released, then the file is
            # left at its end as reading it through would.
            reply = self._call_reply("stor_from_fd", self._wire(cmd), fd, fp.tell(), rest)
            fp.seek(0, io.SEEK_END)
            return reply
        if callback is None and type(fp) in _FILE_TYPES:
            # Nobody sees the blocks: read the file in large ones.
            blocksize = max(blocksize, _BIG_BLOCK)
        return self._call_reply("storbinary", self._wire(cmd), fp, blocksize, callback, rest)

    def storlines(self, cmd: str, fp: Any, callback: Optional[Callable[[bytes], Any]] = None) -> str:
        """Uploads ``fp`` line by line in ASCII (line ends sent as CRLF)."""
        self._check_line(cmd)
        self._debug_cmd("TYPE A")
        self._debug_cmd(cmd)
        self._type = "A"
        return self._call_reply("storlines", self._wire(cmd), fp, self.maxline, callback)

    # -- commands ---------------------------------------------------------------

    def acct(self, password: str) -> str:
        """Sends ``ACCT``."""
        return self.voidcmd("ACCT " + password)

    def nlst(self, *args: str) -> list:
        """The names in a directory (``NLST``)."""
        cmd = " ".join(("NLST",) + args)
        names: list = []
        self.retrlines(cmd, names.append)
        return names

    def dir(self, *args: Any) -> None:
        """``LIST``; the lines go to the callable given last (default: print)."""
        func = None
        if args and not isinstance(args[-1], str):
            args, func = args[:-1], args[-1]
        cmd = "LIST"
        for arg in args:
            if arg:
                cmd = cmd + " " + arg
        self.retrlines(cmd, func)

    def mlsd(self, path: str = "", facts: list = []) -> Iterator[tuple]:  # noqa: B006 (ftplib's signature)
        """Yields ``(name, facts)`` for each ``MLSD`` entry, fact names in
        lower case."""
        if facts:
            self.sendcmd("OPTS MLST " + ";".join(facts) + ";")
        cmd = "MLSD " + path if path else "MLSD"
        lines: list = []
        self.retrlines(cmd, lines.append)
        for line in lines:
            found, _, name = line.rstrip(CRLF).partition(" ")
            entry = {}
            for fact in found[:-1].split(";"):
                key, _, value = fact.partition("=")
                entry[key.lower()] = value
            yield (name, entry)

    def rename(self, fromname: str, toname: str) -> str:
        """``RNFR`` then ``RNTO``."""
        resp = self.sendcmd("RNFR " + fromname)
        if resp[0] != "3":
            raise error_reply(resp)
        return self.voidcmd("RNTO " + toname)

    def delete(self, filename: str) -> str:
        """``DELE``."""
        resp = self.sendcmd("DELE " + filename)
        if resp[:3] in {"250", "200"}:
            return resp
        raise error_reply(resp)

    def cwd(self, dirname: str) -> str:
        """``CWD`` (``CDUP`` for ``..``)."""
        if dirname == "..":
            try:
                return self.voidcmd("CDUP")
            except error_perm as msg:
                if msg.args[0][:3] != "500":
                    raise
        elif dirname == "":
            dirname = "."
        return self.voidcmd("CWD " + dirname)

    def size(self, filename: str) -> Optional[int]:
        """``SIZE``: the size in bytes."""
        resp = self.sendcmd("SIZE " + filename)
        if resp[:3] == "213":
            return int(resp[3:].strip())
        return None

    def mkd(self, dirname: str) -> str:
        """``MKD``: returns the new directory's path."""
        resp = self.voidcmd("MKD " + dirname)
        if not resp.startswith("257"):
            return ""
        return parse257(resp)

    def rmd(self, dirname: str) -> str:
        """``RMD``."""
        return self.voidcmd("RMD " + dirname)

    def pwd(self) -> str:
        """``PWD``: the working directory."""
        resp = self.voidcmd("PWD")
        if not resp.startswith("257"):
            return ""
        return parse257(resp)

    def quit(self) -> str:
        """``QUIT`` and close."""
        try:
            resp = self.voidcmd("QUIT")
        finally:
            self.close()
        return resp

    def close(self) -> None:
        """Closes the connection without ``QUIT``."""
        conn, self._conn = self._conn, None
        self.sock = None
        self.file = None
        if conn is not None:
            conn.close()


class FTP_TLS(FTP):
    """An explicit-TLS FTP client with ftplib's API (see
    :class:`ftplib.FTP_TLS`). The certificate and host name are verified;
    data connections under ``PROT P`` reuse the TLS session."""

    _tls_mode = "capable"
    ssl_version = ssl.PROTOCOL_TLS_CLIENT

    def __init__(
        self,
        host: str = "",
        user: str = "",
        passwd: str = "",
        acct: str = "",
        keyfile: Optional[str] = None,
        certfile: Optional[str] = None,
        context: Optional[ssl.SSLContext] = None,
        timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
        source_address: Optional[tuple] = None,
        *,
        encoding: str = "utf-8",
        **extras: Any,
    ) -> None:
        if keyfile is not None or certfile is not None:
            raise ValueError("client certificates (keyfile, certfile) are not supported by ftpkit")
        if context is not None and getattr(context, "_ftpkit_cert_chain", None):
            raise ValueError("client certificates are not supported by ftpkit")
        self.context = context
        self._prot_p = False
        FTP.__init__(self, host, user, passwd, acct, timeout, source_address, encoding=encoding, **extras)

    def _tls(self) -> Optional[tuple]:
        return _tls_args(self._tls_mode, None, self.context, True)

    def login(self, user: str = "", passwd: str = "", acct: str = "", secure: bool = True) -> str:
        """Secures the connection (``AUTH TLS``) first unless it is, then logs in."""
        if secure and not self._secured():
            self.auth()
        return FTP.login(self, user, passwd, acct)

    def _secured(self) -> bool:
        return self._conn is not None and self._conn.is_open() and self._conn.is_secure()

    def auth(self) -> str:
        """``AUTH TLS`` and the TLS handshake (certificate verified)."""
        if self._secured():
            raise ValueError("Already using TLS")
        self._debug_cmd("AUTH TLS")
        return self._call_reply("auth")

    def ccc(self) -> str:
        """``CCC``: the control connection back to clear text."""
        if not self._secured():
            raise ValueError("not using TLS")
        self._debug_cmd("CCC")
        return self._call_reply("ccc")

    def prot_p(self) -> str:
        """``PBSZ 0`` + ``PROT P``: data connections encrypted."""
        self._debug_cmd("PBSZ 0")
        self._debug_cmd("PROT P")
        resp = self._call_reply("prot_p")
        self._prot_p = True
        return resp

    def prot_c(self) -> str:
        """``PBSZ 0`` + ``PROT C``: data connections in clear."""
        self._debug_cmd("PBSZ 0")
        self._debug_cmd("PROT C")
        resp = self._call_reply("prot_c")
        self._prot_p = False
        return resp


def parse150(resp: str) -> Optional[int]:
    """The size from a ``150 ... (N bytes)`` reply, or None."""
    if resp[:3] != "150":
        raise error_reply(resp)
    m = re.match(r"150 .* \((\d+) bytes\)", resp, re.IGNORECASE | re.ASCII)
    return int(m.group(1)) if m else None


def parse227(resp: str) -> tuple:
    """``(host, port)`` from a 227 reply."""
    if resp[:3] != "227":
        raise error_reply(resp)
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", resp, re.ASCII)
    if not m:
        raise error_proto(resp)
    n = m.groups()
    return ".".join(n[:4]), (int(n[4]) << 8) + int(n[5])


def parse229(resp: str, peer: Any) -> tuple:
    """``(host, port)`` from a 229 reply; the host is the peer's."""
    if resp[:3] != "229":
        raise error_reply(resp)
    left = resp.find("(")
    if left < 0:
        raise error_proto(resp)
    right = resp.find(")", left + 1)
    if right < 0:
        raise error_proto(resp)
    inner = resp[left + 1 : right]
    if not inner or inner[0] != inner[-1]:
        raise error_proto(resp)
    parts = inner.split(inner[0])
    if len(parts) != 5:
        raise error_proto(resp)
    return peer[0], int(parts[3])


def parse257(resp: str) -> str:
    """The quoted path of a 257 reply (doubled quotes undone); '' if none."""
    if resp[:3] != "257":
        raise error_reply(resp)
    if resp[3:5] != ' "':
        return ""
    out = []
    i = 5
    while i < len(resp):
        c = resp[i]
        i += 1
        if c == '"':
            if i < len(resp) and resp[i] == '"':
                i += 1
            else:
                break
        out.append(c)
    return "".join(out)


def print_line(line: str) -> None:
    """The default retrlines() callback: prints the line."""
    print(line)


def ftpcp(source: FTP, sourcename: str, target: FTP, targetname: str = "", type: str = "I") -> None:
    """Copies a file from one server to another directly (FXP): ``PASV`` on
    the source, ``PORT`` on the target. Both servers must allow it."""
    if not targetname:
        targetname = sourcename
    source.voidcmd("TYPE " + type)
    target.voidcmd("TYPE " + type)
    host, port = parse227(source.sendcmd("PASV"))
    target.sendport(host, port)
    treply = target.sendcmd("STOR " + targetname)
    if treply[:3] not in {"125", "150"}:
        raise error_proto
    sreply = source.sendcmd("RETR " + sourcename)
    if sreply[:3] not in {"125", "150"}:
        raise error_proto
    source.voidresp()
    target.voidresp()

