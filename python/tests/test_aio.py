"""ftpkit.aio: Client's calls as coroutines, run on a worker thread per
client, so the event loop goes on while a transfer runs."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

import ftpkit
from conftest import PASS, USER
from ftpkit import aio


def test_upload_download_list_and_errors(local_plain, tmp_path):
    data = os.urandom(2 << 20)
    src = tmp_path / "src.bin"
    src.write_bytes(data)

    async def main():
        async with await aio.Client.connect(local_plain.host, local_plain.port, user=USER, passwd=PASS) as ftp:
            assert ftp.welcome.startswith("220")
            await ftp.mkdir("aio-dir")
            await ftp.cwd("aio-dir")
            assert await ftp.pwd() == "/aio-dir"
            up = await ftp.upload(src, "one.bin")
            assert up.transferred == len(data)
            assert await ftp.size("one.bin") == len(data)
            down = await ftp.download("one.bin", tmp_path / "back.bin")
            assert down.size == len(data)
            names = [(e.name, e.kind, e.size) for e in await ftp.list("")]
            assert names == [("one.bin", "file", len(data))]
            tree = await ftp.walk("/aio-dir")
            assert [(d, [f.name for f in files]) for d, _, files in tree] == [("/aio-dir", ["one.bin"])]
            with pytest.raises(ftpkit.ftplib.error_perm):
                await ftp.size("missing.bin")
            await ftp.delete("one.bin")
            await ftp.cwd("/")
            await ftp.rmdir("aio-dir")
            await ftp.quit()

    asyncio.run(main())
    assert hashlib.sha256((tmp_path / "back.bin").read_bytes()).digest() == hashlib.sha256(data).digest()


def test_loop_runs_while_clients_transfer(local_slow, tmp_path):
    """Two downloads of 2 MiB at the server's 1 MiB/s, at the same time:
    together they take about 2 s, not 4, and the loop ticks meanwhile."""
    blob = os.urandom(2 << 20)
    for i in range(2):
        (local_slow.home / ("aio-%d.bin" % i)).write_bytes(blob)

    async def fetch(i):
        ftp = await aio.Client.connect(local_slow.host, local_slow.port, user=USER, passwd=PASS)
        try:
            return await ftp.download("aio-%d.bin" % i, tmp_path / ("aio-%d.bin" % i))
        finally:
            await ftp.close()

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        start = loop.time()
        reports = await asyncio.gather(fetch(0), fetch(1))
        elapsed = loop.time() - start
        done.set()
        await tick
        return reports, elapsed, ticks

    reports, elapsed, ticks = asyncio.run(main())
    assert [r.size for r in reports] == [len(blob), len(blob)]
    for i in range(2):
        assert (tmp_path / ("aio-%d.bin" % i)).read_bytes() == blob
    assert elapsed < 3.5, elapsed  # in parallel: one transfer takes about 2 s
    assert ticks > 50, ticks  # the loop was not blocked


def test_connect_failure_raises(tmp_path):
    async def main():
        with pytest.raises(OSError):
            await aio.Client.connect("127.0.0.1", 1, user=USER, passwd=PASS, timeout=5)

    asyncio.run(main())


def test_pool_lends_at_most_max_size_connections(local_slow, tmp_path):
    """Six tasks share a pool of two: each gets a working connection, never
    more than two are open, and they are kept for reuse afterwards (at the
    server's 1 MiB/s each download takes 0.2 s: the first two overlap)."""
    blobs = [os.urandom(200_000 + i) for i in range(6)]
    for i, blob in enumerate(blobs):
        (local_slow.home / ("pool-%d.bin" % i)).write_bytes(blob)
    pool = aio.Pool(local_slow.host, local_slow.port, user=USER, passwd=PASS, max_size=2)
    peak = 0

    async def fetch(i):
        nonlocal peak
        async with pool.get() as ftp:
            peak = max(peak, pool.status()[0])
            await ftp.cwd("/")
            return await ftp.download("pool-%d.bin" % i, tmp_path / ("pool-%d.bin" % i))

    async def main():
        reports = await asyncio.gather(*(fetch(i) for i in range(6)))
        # Awaited rather than entered: lent until closed.
        ftp = await pool.get()
        assert pool.status() == (1, 1)
        assert await ftp.size("pool-0.bin") == len(blobs[0])
        await ftp.close()
        return reports

    reports = asyncio.run(main())
    assert [r.size for r in reports] == [len(b) for b in blobs]
    for i, blob in enumerate(blobs):
        assert (tmp_path / ("pool-%d.bin" % i)).read_bytes() == blob
        (local_slow.home / ("pool-%d.bin" % i)).unlink()
    assert peak == 2
    assert pool.status() == (0, 2)
