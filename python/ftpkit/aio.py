"""asyncio for ftpkit: :class:`Client`, the same calls as
:class:`ftpkit.Client` as coroutines.

Each client runs its calls, one at a time and in order, on a worker thread
of its own; the engine releases the GIL while it waits on the network or
the disk, so the event loop and other clients go on meanwhile::

    import asyncio
    from ftpkit import aio

    async def main():
        async with await aio.Client.connect("ftp.example.com", user="me", passwd="secret") as ftp:
            await ftp.download("pub/big.iso", "big.iso")
            for entry in await ftp.list("pub"):
                print(entry.name, entry.size)

    asyncio.run(main())

:class:`Pool` lends pooled connections to tasks, at most ``max_size`` at
once::

    pool = aio.Pool("ftp.example.com", user="me", passwd="secret", max_size=4)
    async def fetch(name):
        async with pool.get() as ftp:
            await ftp.download(name, name)
    await asyncio.gather(*(fetch(n) for n in names))

Cancelling a task that awaits a call stops the wait, not the call: the
call finishes (or fails) on the worker thread, and the next call waits for
it. Progress callbacks run on the worker thread: hand results to the loop
with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any, Callable, List, Optional, Tuple, TypeVar

from . import Client as _SyncClient
from . import Entry, TransferReport
from . import Pool as _SyncPool

__all__ = ["Client", "Pool"]

T = TypeVar("T")


class Client:
    """A connected, logged-in FTP client for asyncio; make one with
    ``await Client.connect(...)``, which takes the arguments of
    :class:`ftpkit.Client`."""

    def __init__(self, client: _SyncClient, welcome: str, worker: concurrent.futures.ThreadPoolExecutor) -> None:
        self._client = client
        self._welcome = welcome
        self._worker = worker
        self._closed = False

    @classmethod
    async def connect(cls, host: str, port: Optional[int] = None, **kwargs: Any) -> "Client":
        """Connects and logs in (see :class:`ftpkit.Client` for the arguments)."""
        worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ftpkit-aio")
        loop = asyncio.get_running_loop()
        try:
            client = await loop.run_in_executor(worker, functools.partial(_SyncClient, host, port, **kwargs))
            welcome = await loop.run_in_executor(worker, lambda: client.welcome)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(client, welcome, worker)

    @classmethod
    async def _lend(cls, pool: _SyncPool) -> "Client":
        """A connection from ``pool``, on a worker thread of its own."""
        worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ftpkit-aio")
        loop = asyncio.get_running_loop()
        try:
            # The wait for a free connection happens on the worker: the
            # loop goes on meanwhile.
            client = await loop.run_in_executor(worker, pool.get)
            welcome = await loop.run_in_executor(worker, lambda: client.welcome)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(client, welcome, worker)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(fn, *args, **kwargs))

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self.close()

    @property
    def welcome(self) -> str:
        """The server's greeting."""
        return self._welcome

    async def command(self, line: str) -> str:
        """Sends a raw command; returns the reply text (4xx/5xx raise)."""
        return await self._run(self._client.command, line)

    async def pwd(self) -> str:
        """The working directory."""
        return await self._run(self._client.pwd)

    async def cwd(self, path: str) -> None:
        """Changes the working directory."""
        await self._run(self._client.cwd, path)

    async def mkdir(self, path: str) -> None:
        """Creates a directory."""
        await self._run(self._client.mkdir, path)

    async def rmdir(self, path: str) -> None:
        """Removes a directory."""
        await self._run(self._client.rmdir, path)

    async def delete(self, path: str) -> None:
        """Deletes a file."""
        await self._run(self._client.delete, path)

    async def rename(self, old: str, new: str) -> None:
        """Renames a file or directory."""
        await self._run(self._client.rename, old, new)

    async def size(self, path: str) -> int:
        """A file's size in bytes."""
        return await self._run(self._client.size, path)

    async def download(self, remote: str, local: Any, **kwargs: Any) -> TransferReport:
        """Downloads ``remote`` to the file ``local`` (options as
        :meth:`ftpkit.Client.download`)."""
        return await self._run(self._client.download, remote, local, **kwargs)

    async def upload(self, local: Any, remote: str, **kwargs: Any) -> TransferReport:
        """Uploads the file ``local`` to ``remote`` (options as
        :meth:`ftpkit.Client.upload`)."""
        return await self._run(self._client.upload, local, remote, **kwargs)

    async def list(self, path: str = "") -> List[Entry]:
        """A directory's entries, parsed (see :meth:`ftpkit.Client.list`)."""
        return await self._run(lambda: list(self._client.list(path)))

    async def walk(self, top: str = "") -> List[Tuple[str, List[Entry], List[Entry]]]:
        """The tree under ``top``: ``(dirpath, dirs, files)`` for each
        directory, top first (see :meth:`ftpkit.Client.walk`)."""
        return await self._run(lambda: list(self._client.walk(top)))

    async def quit(self) -> None:
        """Says goodbye (``QUIT``) and closes the connection."""
        await self._end(self._client.quit)

    async def close(self) -> None:
        """Closes the connection without ``QUIT``; closing twice does nothing."""
        await self._end(self._client.close)

    async def _end(self, fn: Callable[[], None]) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._run(fn)
        finally:
            self._worker.shutdown(wait=False)


class _Lease:
    """What :meth:`Pool.get` returns: await it for a :class:`Client`, or use
    it as ``async with`` to give the connection back at the block's end."""

    def __init__(self, pool: _SyncPool) -> None:
        self._pool = pool
        self._client: Optional[Client] = None

    def __await__(self) -> Any:
        return Client._lend(self._pool).__await__()

    async def __aenter__(self) -> Client:
        self._client = await Client._lend(self._pool)
        return self._client

    async def __aexit__(self, *args: Any) -> None:
        if self._client is not None:
            await self._client.close()


class Pool:
    """A pool of logged-in connections to one server for asyncio, at most
    ``max_size`` at once; the arguments are :class:`ftpkit.Pool`'s (and so
    :class:`ftpkit.Client`'s). Connections are opened as tasks ask for them
    and kept for the next; a task that asks while all are in use waits
    (without holding up the event loop).

    ``async with pool.get() as ftp:`` lends one for the block;
    ``ftp = await pool.get()`` lends one until ``await ftp.close()`` (a
    pooled connection goes back to the pool instead of closing)."""

    def __init__(self, host: str, port: Optional[int] = None, **kwargs: Any) -> None:
        self._pool = _SyncPool(host, port, **kwargs)

    def get(self) -> _Lease:
        """A connection, as an awaitable and an async context manager."""
        return _Lease(self._pool)

    def status(self) -> Tuple[int, int]:
        """``(in use, idle)`` connection counts."""
        return self._pool.status()
