"""ftpkit for Python: an FTP/FTPS client on the ftpkit engine.

Two APIs:

* :mod:`ftpkit.ftplib`, a drop-in for the standard library's :mod:`ftplib`
  (``from ftpkit import ftplib``);
* :class:`Client` and :class:`Pool`, a Pythonic API: downloads and uploads
  that resume, retry and verify, typed directory listings, ``walk()``;
  :mod:`ftpkit.aio` has the same calls as coroutines for asyncio.

The GIL is released during network and disk I/O; callbacks run with it
held. Ctrl-C during an ftplib-style transfer aborts it (``ABOR``) and raises
``KeyboardInterrupt``, leaving the connection usable.
"""

from __future__ import annotations

import datetime as _dt
import os
import ssl
import codecs
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union

from . import _native, ftplib

__all__ = ["Client", "Pool", "Entry", "TransferReport", "Error", "ftplib"]

Error = ftplib.Error
"""Base class of ftpkit's FTP errors (``ftplib.Error``)."""

PathLike = Union[str, bytes, "os.PathLike[str]"]


@dataclass(frozen=True)
class Entry:
    """One directory entry from a listing (MLSD where offered, LIST otherwise)."""

    name: str
    """The name, decoded as UTF-8 (undecodable bytes escaped)."""
    kind: str
    """``'file'``, ``'dir'``, ``'link'``, ``'other'`` or ``'unknown'``."""
    size: Optional[int]
    """Size in bytes, if listed."""
    modified: Optional[_dt.datetime]
    """Modification time (UTC, timezone-aware), if listed."""
    permissions: Optional[int]
    """Unix permission bits, if listed."""
    owner: Optional[str]
    """Owner, if listed."""
    group: Optional[str]
    """Group, if listed."""
    target: Optional[str]
    """A symbolic link's target, if listed."""
    raw: bytes
    """The listing line as sent."""
    name_bytes: bytes
    """The name's bytes as sent."""

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a directory."""
        return self.kind == "dir"

    @property
    def is_file(self) -> bool:
        """Whether the entry is a regular file."""
        return self.kind == "file"


@dataclass(frozen=True)
class TransferReport:
    """What :meth:`Client.download` and :meth:`Client.upload` did."""

    size: int
    """The file's size in bytes."""
    transferred: int
    """Bytes moved by this call (less than ``size`` after a resume)."""
    resumed_from: int
    """The offset the transfer resumed from (0: from the start)."""
    retries: int
    """Failed attempts retried."""
    restarts: int
    """Times the transfer started over because the remote file changed."""
    verified: str
    """What was verified (size, content hash), in words."""
    mtime_preserved: bool
    """Whether the modification time was carried over."""


def _options(encoding: str, timeout: Optional[float], options: dict) -> dict:
    """The engine's options from :class:`Client`'s keyword arguments."""
    codecs.lookup(encoding)  # an unknown codec fails here, not at the first name
    out = dict(options, timeout=timeout, encoding=ftplib._charset_label(encoding))
    if "trust_pasv_address" in out:
        out["trust_pasv"] = out.pop("trust_pasv_address")
    if out.get("active_ports") is not None:
        out["active_ports"] = tuple(out["active_ports"])
    return out


def _call(fn: Callable[..., Any], *args: Any, encoding: str = "utf-8", **kwargs: Any) -> Any:
    """Calls into the engine, turning its errors into ftplib's."""
    try:
        return fn(*args, **kwargs)
    except _native.NativeError as e:
        raise ftplib._convert(e, encoding) from None


class Client:
    """A connected, logged-in FTP client.

    ``tls`` is ``None`` (plain FTP), ``'explicit'`` (``AUTH TLS``, data
    connections encrypted) or ``'implicit'`` (FTPS on port 990). The
    certificate is verified against the system's trust store plus
    ``cafile``; ``verify=False`` turns verification off (not advised).

    Reaching servers behind proxies, NAT and in other charsets and time zones:

    * ``proxy``: a URL for the control and every data connection,
      ``socks5://[user:pass@]host:port`` (``socks5h://``: the proxy
      resolves the name), ``http://host:port`` (HTTP ``CONNECT``) or
      ``ftp://host:port?login=user|site|open`` (an FTP proxy);
    * ``encoding``: the server's charset for names (a Python codec name:
      ``'latin-1'``, ``'cp1251'``, ``'gbk'``); paths are encoded with it and
      listed names decoded with it (undecodable bytes escaped), their bytes
      kept in :attr:`Entry.name_bytes`;
    * ``list_time_offset``: the time zone of ``LIST`` times, ``'auto'``
      (learned from one ``MDTM``), ``'+02:00'``, or seconds east of UTC;
    * ``passive=False`` with ``active_ports=(first, last)`` (the local ports
      to listen on) and ``active_address`` (the address to advertise);
    * ``use_epsv=False``: ``PASV`` only; ``trust_pasv_address=True``: connect
      to the address a 227 reply names (only for a server behind a NAT that
      needs it: a hostile server could send the client anywhere);
    * ``timeout``: idle timeout of every read and write (and connect);
      ``deadline``: seconds allowed for one whole operation, retries
      included; ``reply_timeout``: for one whole reply; ``keepalive``: TCP
      keepalive interval on the control connection (``None``: off).

    >>> with ftpkit.Client("ftp.example.com", user="me", passwd="secret", tls="explicit") as ftp:
    ...     ftp.download("pub/big.iso", "big.iso", progress=print)
    """

    def __init__(
        self,
        host: str,
        port: Optional[int] = None,
        *,
        user: str = "anonymous",
        passwd: str = "anonymous@",
        acct: str = "",
        tls: Optional[str] = None,
        cafile: Optional[str] = None,
        context: Optional[ssl.SSLContext] = None,
        verify: bool = True,
        timeout: Optional[float] = 30.0,
        passive: bool = True,
        encoding: str = "utf-8",
        proxy: Optional[str] = None,
        list_time_offset: Union[str, int, None] = None,
        active_ports: Optional[Tuple[int, int]] = None,
        active_address: Optional[str] = None,
        use_epsv: bool = True,
        trust_pasv_address: bool = False,
        deadline: Optional[float] = None,
        reply_timeout: Optional[float] = None,
        keepalive: Optional[float] = ftplib.KEEPALIVE,
        _conn: Any = None,
    ) -> None:
        self.encoding = encoding
        if _conn is not None:
            self._conn = _conn
            return
        mode = tls or "none"
        if mode not in ("none", "explicit", "implicit"):
            raise ValueError("tls must be None, 'explicit' or 'implicit'")
        if port is None:
            port = 990 if mode == "implicit" else 21
        options = _options(
            encoding,
            timeout,
            dict(
                passive=passive,
                proxy=proxy,
                list_time_offset=list_time_offset,
                active_ports=active_ports,
                active_address=active_address,
                use_epsv=use_epsv,
                trust_pasv_address=trust_pasv_address,
                deadline=deadline,
                reply_timeout=reply_timeout,
                keepalive=keepalive,
            ),
        )
        self._conn = self._call(
            _native.Conn.connect,
            host,
            port,
            protect_data=True,
            options=options,
            tls=ftplib._tls_args(mode, cafile, context, verify),
        )
        self._call(self._conn.login, user, passwd, acct)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return _call(fn, *args, encoding=self.encoding, **kwargs)

    def _text(self, reply: Any) -> str:
        return ftplib._join(reply[1], self.encoding)

    def _path(self, p: Any) -> bytes:
        """A path as the server's bytes: ``bytes`` as they are, text encoded."""
        if isinstance(p, bytes):
            return p
        return os.fspath(p).encode(self.encoding, "surrogateescape")

    def _decode(self, b: Optional[bytes]) -> Optional[str]:
        return None if b is None else b.decode(self.encoding, "surrogateescape")

    def _cmd(self, verb: str, path: Any) -> bytes:
        return verb.encode("ascii") + b" " + self._path(path)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    @property
    def welcome(self) -> str:
        """The server's greeting."""
        return self._text(self._call(self._conn.welcome))

    def command(self, line: str) -> str:
        """Sends a raw command and returns the reply; 4xx/5xx raise."""
        return self._text(self._call(self._conn.sendcmd, line.encode(self.encoding, "surrogateescape")))

    def pwd(self) -> str:
        """The working directory."""
        return ftplib.parse257(self._text(self._call(self._conn.voidcmd, b"PWD")))

    def cwd(self, path: str) -> None:
        """Changes the working directory."""
        self._call(self._conn.voidcmd, self._cmd("CWD", path))

    def mkdir(self, path: str) -> None:
        """Creates a directory."""
        self._call(self._conn.voidcmd, self._cmd("MKD", path))

    def rmdir(self, path: str) -> None:
        """Removes an empty directory."""
        self._call(self._conn.voidcmd, self._cmd("RMD", path))

    def delete(self, path: str) -> None:
        """Deletes a file."""
        self._call(self._conn.voidcmd, self._cmd("DELE", path))

    def rename(self, old: str, new: str) -> None:
        """Renames a file or directory."""
        self._call(self._conn.sendcmd, self._cmd("RNFR", old))
        self._call(self._conn.voidcmd, self._cmd("RNTO", new))

    def size(self, path: str) -> int:
        """A file's size in bytes (binary mode)."""
        self._call(self._conn.voidcmd, b"TYPE I")
        return int(self._text(self._call(self._conn.voidcmd, self._cmd("SIZE", path)))[4:].strip())

    def download(
        self,
        remote: str,
        local: PathLike,
        *,
        resume: bool = True,
        verify: str = "auto",
        retries: int = 3,
        preserve_mtime: bool = True,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> TransferReport:
        """Downloads ``remote`` to the file ``local`` through ``LOCAL.part``:
        resumes a ``.part`` left by an earlier try, retries transient
        failures (reconnecting), verifies the size and, where the server
        offers one, a content hash (``verify='size'`` or ``'off'`` to do
        less), and renames the ``.part`` file only when all that succeeded.
        ``progress(offset)`` is called after each block."""
        r = self._call(self._conn.download, self._path(remote), os.fspath(local), resume, verify, retries, preserve_mtime, progress)
        return TransferReport(**r)

    def upload(
        self,
        local: PathLike,
        remote: str,
        *,
        resume: bool = True,
        verify: str = "auto",
        retries: int = 3,
        temp_name: bool = False,
        progress: Optional[Callable[[int], Any]] = None,
    ) -> TransferReport:
        """Uploads the file ``local`` to ``remote``, retrying and resuming
        within the call and verifying the result; with ``temp_name`` the
        upload goes to ``REMOTE.part`` and is renamed when complete."""
        r = self._call(self._conn.upload, os.fspath(local), self._path(remote), resume, verify, retries, temp_name, progress)
        return TransferReport(**r)

    def list(self, path: str = "") -> Iterator[Entry]:
        """Yields the entries of a directory, parsed (MLSD or LIST)."""
        for d in self._call(self._conn.list_entries, self._path(path)):
            modified = None
            if d["modified"] is not None:
                modified = _dt.datetime.fromtimestamp(d["modified"], tz=_dt.timezone.utc)
            yield Entry(
                name=self._decode(d["name"]) or "",
                kind=d["kind"],
                size=d["size"],
                modified=modified,
                permissions=d["permissions"],
                owner=d["owner"],
                group=d["group"],
                target=self._decode(d["target"]),
                raw=d["raw"],
                name_bytes=d["name"],
            )

    def walk(self, top: str = "") -> Iterator[Tuple[str, List[Entry], List[Entry]]]:
        """Like :func:`os.walk`: yields ``(dirpath, dirs, files)`` for ``top``
        and every directory below it (symbolic links are not followed)."""
        base = top or self.pwd()
        pending = [base]
        while pending:
            here = pending.pop()
            entries = [e for e in self.list(here) if e.name not in (".", "..")]
            dirs = [e for e in entries if e.is_dir]
            files = [e for e in entries if not e.is_dir]
            yield here, dirs, files
            for d in reversed(dirs):
                if "/" in d.name or d.name in ("", ".", ".."):
                    continue
                pending.append(here.rstrip("/") + "/" + d.name)

    def quit(self) -> None:
        """Says goodbye (``QUIT``) and closes."""
        if self._conn.is_open():
            self._call(self._conn.quit)

    def close(self) -> None:
        """Closes the connection (a pooled one goes back to its pool)."""
        self._conn.close()


class Pool:
    """A pool of logged-in connections to one server, at most ``max_size``
    at once; the other keyword arguments are :class:`Client`'s (``tls``,
    ``proxy``, ``encoding``, ``deadline``...). :meth:`get` waits while all
    are in use.

    >>> pool = ftpkit.Pool("ftp.example.com", user="me", passwd="secret", max_size=4)
    >>> with pool.get() as ftp:
    ...     ftp.download("a.txt", "a.txt")
    """

    def __init__(
        self,
        host: str,
        port: Optional[int] = None,
        *,
        user: str = "anonymous",
        passwd: str = "anonymous@",
        max_size: int = 4,
        tls: Optional[str] = None,
        cafile: Optional[str] = None,
        context: Optional[ssl.SSLContext] = None,
        verify: bool = True,
        timeout: Optional[float] = 30.0,
        encoding: str = "utf-8",
        **options: Any,
    ) -> None:
        mode = tls or "none"
        if mode not in ("none", "explicit", "implicit"):
            raise ValueError("tls must be None, 'explicit' or 'implicit'")
        if port is None:
            port = 990 if mode == "implicit" else 21
        self.encoding = encoding
        self._pool = _call(
            _native.NativePool,
            host,
            port,
            user,
            passwd,
            max_size,
            options=_options(encoding, timeout, options),
            tls=ftplib._tls_args(mode, cafile, context, verify),
        )

    def get(self) -> Client:
        """A connection (a :class:`Client`); closing it returns it to the pool."""
        return Client("", encoding=self.encoding, _conn=_call(self._pool.get, encoding=self.encoding))

    def status(self) -> Tuple[int, int]:
        """``(in use, idle)`` connection counts."""
        return self._pool.status()
