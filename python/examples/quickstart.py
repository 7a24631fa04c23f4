"""ftpkit for Python, both APIs (and asyncio) against one server.

usage: python examples/quickstart.py HOST PORT USER PASSWORD [CAFILE]
With CAFILE the connection uses explicit TLS, verified against that CA.
FTPKIT_PROXY (a socks5://, socks5h://, http:// or ftp:// URL) sends every
connection through that proxy.
"""
import os
import io
import sys
import tempfile
from pathlib import Path

import ftpkit
from ftpkit import ftplib  # the only change an ftplib script needs

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
cafile = sys.argv[5] if len(sys.argv) > 5 else None
proxy = os.environ.get("FTPKIT_PROXY")

# 1. An ftplib script, unchanged.
if cafile:
    import ssl

    ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=cafile), proxy=proxy)
else:
    ftp = ftplib.FTP(proxy=proxy)  # proxy: an extra beside ftplib's arguments
with ftp:
    print(ftp.connect(host, port))
    print(ftp.login(user, password))
    if cafile:
        ftp.prot_p()  # data connections resume the control session's TLS
    ftp.storbinary("STOR quickstart.txt", io.BytesIO(b"hello from ftpkit\n" * 1000))
    print("size:", ftp.size("quickstart.txt"))
    ftp.retrlines("LIST")

# 2. The Pythonic client: verified, resumable transfers and typed listings
# (LIST times read in the server's time zone, learned from one MDTM).
tls = "explicit" if cafile else None
options = dict(user=user, passwd=password, tls=tls, cafile=cafile, proxy=proxy)
with ftpkit.Client(host, port, list_time_offset="auto", deadline=600, **options) as client, tempfile.TemporaryDirectory() as tmp:
    report = client.download("quickstart.txt", Path(tmp) / "copy.txt", progress=lambda n: print("at", n))
    print(report.size, "bytes;", report.verified)
    for entry in client.list("/"):
        print(entry.kind, entry.size, entry.modified, entry.name)
    client.delete("quickstart.txt")

# 3. asyncio: the same calls as coroutines, several clients at once.
import asyncio

from ftpkit import aio


async def both():
    async def one(name):
        async with await aio.Client.connect(host, port, **options) as c:
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / name
                src.write_bytes(name.encode() * 1000)
                await c.upload(src, name)
            size = await c.size(name)
            await c.delete(name)
            return size

    print("aio sizes:", await asyncio.gather(one("a.txt"), one("b.txt")))

    # A pool: three tasks share two logged-in connections.
    pool = aio.Pool(host, port, max_size=2, **options)

    async def where(i):
        async with pool.get() as c:
            return i, await c.pwd()

    print("pooled:", await asyncio.gather(*(where(i) for i in range(3))), "connections (in use, idle):", pool.status())


asyncio.run(both())
