#!/usr/bin/env python3
"""An FTP-aware latency proxy for ftpkit's benchmark (Python 3.11 standard library only).

It sits between an FTP client and a plain-FTP server and relays the control
connection and every data connection through itself:

* passive mode: the server's `227` (PASV) and `229` (EPSV) replies are
  rewritten to point at a one-shot listener of the proxy, which connects to
  the server's data port when the client connects;
* active mode: the client's `PORT` and `EPRT` commands are rewritten to point
  at a one-shot listener of the proxy, which connects to the client's data
  port when the server connects.

Every direction of every relayed connection delivers each chunk it reads one
one-way delay after it arrived (so a round trip costs twice the delay), and no
faster than an optional per-connection, per-direction bandwidth cap. At most
`buffer` bytes wait in each direction (4 MiB by default, about a TCP window),
so a capped sender is slowed down instead of being buffered whole.

It counts, on the control connections, the commands the client sends and the
client's *flights*: client bytes that arrive after a server reply was
delivered to the client start a new flight, bytes that arrive before the
reply is delivered belong to the current one. A flight is a round trip: a
client that sends SIZE, MDTM and EPSV together and then waits makes one
flight, one that waits for each reply makes three. At a round trip of 0 a
pipelining client may be counted more than once per batch (a reply can be
delivered before its batch has fully arrived); the figure is exact when the
delay is larger than the client's time to write a batch.

Limits:

* Plain FTP only. Replies and commands after `AUTH TLS` are encrypted and
  cannot be rewritten: the proxy then relays the control connection opaquely
  (still delayed) and the data connections go straight to the server,
  undelayed. `stats()["tls_sessions"]` counts such sessions.
* The TCP handshake of a relayed connection is completed locally by the
  kernel, so a client's `connect()` returns at once where on a real link it
  takes one round trip; the proxy opens its own connection to the far side
  one one-way delay after accepting, and every byte on the connection is
  delayed both ways. A client that waits for `connect()` before sending RETR
  thus gains up to one round trip per file compared with a real link.

Usage:
  latency_proxy.py --upstream 127.0.0.1:2121 --listen 127.0.0.1:2221 --rtt-ms 40 [--rate-mbit 100]
  latency_proxy.py --self-test
"""
import argparse
import asyncio
import contextlib
import hashlib
import ipaddress
import os
import re
import socket
import sys
import threading
import time

CHUNK = 64 * 1024
PASV_RE = re.compile(rb"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})")
EPSV_RE = re.compile(rb"\((.)\1\1(\d{1,5})\1\)")
EPRT_RE = re.compile(rb"^EPRT (.)([12])\1([^\r\n]+?)\1(\d{1,5})\1", re.IGNORECASE)
# A data listener that nobody connects to is closed after this long.
ACCEPT_TIMEOUT = 60.0


class Stats:
    """Counters of the proxy, updated on its event loop."""

    FIELDS = ("sessions", "tls_sessions", "commands", "flights", "data_connections",
              "bytes_to_server", "bytes_to_client")

    def __init__(self):
        self.reset()

    def reset(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def snapshot(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class LatencyProxy:
    """The proxy on the current event loop: `await start()`, then `address`."""

    def __init__(self, upstream, listen=("127.0.0.1", 0), delay=0.0, rate=None, buffer=4 << 20):
        self.upstream = upstream  # (host, port) of the FTP server
        self.listen = listen
        self.delay = delay  # one way, seconds
        self.rate = rate  # bytes/s per connection and direction, or None
        self.buffer = buffer
        self.stats = Stats()
        self.server = None
        self.address = None
        self.tasks = set()

    async def start(self):
        self.server = await asyncio.start_server(self._control, self.listen[0], self.listen[1])
        self.address = self.server.sockets[0].getsockname()[:2]
        return self.address

    async def close(self):
        if self.server:
            self.server.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # --- one direction of one connection -------------------------------

    async def _pump(self, reader, get_writer, filt=None, on_arrival=None, on_delivered=None):
        """Copies reader to the writer that get_writer() returns, each chunk
        delivered `delay` after it arrived and no faster than `rate`.

        filt(data, eof) -> bytes may hold back or rewrite bytes (control
        lines). Returns on EOF, after half-closing the writer; raises on a
        connection error."""
        loop = asyncio.get_running_loop()
        chunk = CHUNK if not self.rate else max(1024, min(CHUNK, int(self.rate / 100)))
        queue = asyncio.Queue(maxsize=max(4, self.buffer // chunk))
        failure = []

        async def produce():
            link_free = 0.0
            now = loop.time()
            try:
                while True:
                    data = await reader.read(chunk)
                    now = loop.time()
                    eof = not data
                    if data and on_arrival:
                        on_arrival(data)
                    if filt:
                        data = await filt(data, eof)
                    if data:
                        if self.rate:
                            link_free = max(now, link_free) + len(data) / self.rate
                            due = link_free + self.delay
                        else:
                            due = now + self.delay
                        await queue.put((due, data))
                    if eof:
                        await queue.put((max(now, link_free) + self.delay, None))
                        return
            except Exception as e:  # a reset, or a reply the filter could not use: abort
                failure.append(e)
                await queue.put((now, None))

        producer = self._spawn(produce())
        writer = None
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if writer is None:
                    writer = await get_writer()
                if data is None:
                    if failure:
                        raise failure[0]
                    if writer.can_write_eof():
                        with contextlib.suppress(OSError):
                            writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
                if on_delivered:
                    on_delivered(data)
        finally:
            producer.cancel()

    async def _relay(self, a_reader, a_writer, far, a_to_b=None, b_to_a=None):
        """Relays a <-> b both ways until both directions have ended, where
        `far` is an awaitable of b's (reader, writer). A connection error on
        either side, or a failed connection to b, aborts both."""
        b = asyncio.ensure_future(far)

        async def a_writer_get():
            return a_writer

        async def b_writer_get():
            return (await b)[1]

        async def down():
            b_reader, _ = await b
            await self._pump(b_reader, a_writer_get, **(b_to_a or {}))

        up = self._spawn(self._pump(a_reader, b_writer_get, **(a_to_b or {})))
        down_task = self._spawn(down())
        failed = False
        try:
            pending = {up, down_task}
            while pending and not failed:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                failed = any(t.cancelled() or t.exception() for t in done)
        finally:
            writers = [a_writer]
            if b.done() and not b.cancelled() and not b.exception():
                writers.append(b.result()[1])
            for w in writers:
                if failed:
                    w.transport.abort()
                else:
                    w.close()
            for t in (up, down_task, b):
                t.cancel()
            await asyncio.gather(up, down_task, b, return_exceptions=True)

    # --- data connections ----------------------------------------------

    async def _data_listener(self, bind_host, target_host, target_port, listeners):
        """A one-shot listener on bind_host that relays its first connection
        to target_host:target_port, connecting there one one-way delay after
        accepting (the SYN's trip); returns its port."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        async def far():
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            return await asyncio.open_connection(target_host, target_port)

        async def accepted(reader, writer):
            if done.done():  # one connection only
                writer.transport.abort()
                return
            done.set_result(None)
            server.close()
            listeners.discard(server)
            self.stats.data_connections += 1
            await self._relay(reader, writer, far())

        server = await asyncio.start_server(accepted, bind_host, 0)
        listeners.add(server)

        async def expire():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), ACCEPT_TIMEOUT)
            server.close()
            listeners.discard(server)

        self._spawn(expire())
        return server.sockets[0].getsockname()[1]

    # --- control connections -------------------------------------------

    async def _control(self, c_reader, c_writer):
        self.stats.sessions += 1
        listeners = set()
        state = {"replied": True, "tls": False, "auth_sent": False}
        try:
            # The SYN's trip; client bytes that come meanwhile wait in the
            # kernel (clients wait for the greeting anyway).
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            s_reader, s_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            c_writer.transport.abort()
            return
        client_ip = c_writer.get_extra_info("sockname")[0]  # where the client reached us
        server_side_ip = s_writer.get_extra_info("sockname")[0]  # where the server reaches us
        c_buf = bytearray()
        s_buf = bytearray()

        def arrival_from_client(_data):
            if state["replied"]:
                self.stats.flights += 1
                state["replied"] = False

        def delivered_to_client(data):
            self.stats.bytes_to_client += len(data)
            state["replied"] = True

        async def from_client(data, eof):
            self.stats.bytes_to_server += len(data)
            if state["tls"]:
                return data
            c_buf.extend(data)
            out = bytearray()
            while (end := c_buf.find(b"\n")) >= 0:
                line = bytes(c_buf[: end + 1])
                del c_buf[: end + 1]
                self.stats.commands += 1
                out += await rewrite_command(line)
            if eof and c_buf:
                out += c_buf
                c_buf.clear()
            return bytes(out)

        async def rewrite_command(line):
            verb = line[:4].upper()
            if verb == b"AUTH":
                state["auth_sent"] = True
            if verb == b"PORT" and (m := PASV_RE.search(line)):
                n = [int(x) for x in m.groups()]
                host, port = ".".join(map(str, n[:4])), n[4] * 256 + n[5]
                lport = await self._data_listener(server_side_ip, host, port, listeners)
                a = server_side_ip.split(".")
                return b"PORT %s,%d,%d\r\n" % (",".join(a).encode(), lport >> 8, lport & 255)
            if verb == b"EPRT" and (m := EPRT_RE.match(line)):
                d, host, port = m.group(1), m.group(3).decode(), int(m.group(4))
                lport = await self._data_listener(server_side_ip, host, port, listeners)
                fam = b"2" if ":" in server_side_ip else b"1"
                return b"EPRT " + d + fam + d + server_side_ip.encode() + d + str(lport).encode() + d + b"\r\n"
            return line

        async def from_server(data, eof):
            if state["tls"]:
                return data
            s_buf.extend(data)
            out = bytearray()
            while (end := s_buf.find(b"\n")) >= 0:
                line = bytes(s_buf[: end + 1])
                del s_buf[: end + 1]
                out += await rewrite_reply(line)
                if state["tls"]:  # what follows a 234 is TLS
                    out += s_buf
                    s_buf.clear()
                    break
            if eof and s_buf:
                out += s_buf
                s_buf.clear()
            return bytes(out)

        async def rewrite_reply(line):
            code = line[:4]
            if code == b"234 " and state["auth_sent"]:
                state["tls"] = True
                self.stats.tls_sessions += 1
            elif code == b"227 " and (m := PASV_RE.search(line)):
                n = [int(x) for x in m.groups()]
                host = ".".join(map(str, n[:4]))
                if ipaddress.ip_address(host).is_unspecified:
                    host = self.upstream[0]
                lport = await self._data_listener(client_ip, host, n[4] * 256 + n[5], listeners)
                mine = ",".join(client_ip.split(".")) + ",%d,%d" % (lport >> 8, lport & 255)
                return line[: m.start()] + mine.encode() + line[m.end():]
            elif code == b"229 " and (m := EPSV_RE.search(line)):
                lport = await self._data_listener(client_ip, self.upstream[0], int(m.group(2)), listeners)
                d = m.group(1)
                return line[: m.start()] + b"(" + d * 3 + str(lport).encode() + d + b")" + line[m.end():]
            return line

        async def server_side():
            return s_reader, s_writer

        try:
            await self._relay(
                c_reader, c_writer, server_side(),
                a_to_b=dict(filt=from_client, on_arrival=arrival_from_client),
                b_to_a=dict(filt=from_server, on_delivered=delivered_to_client),
            )
        except (ConnectionError, OSError):
            pass
        finally:
            for server in list(listeners):
                server.close()


class ProxyThread:
    """The proxy on its own event loop in a background thread, for callers
    that are not asyncio (bench/run.py): `with ProxyThread(...) as p:` then
    `p.address`, `p.stats()`, `p.reset()`."""

    def __init__(self, upstream, delay=0.0, rate=None, listen=("127.0.0.1", 0), buffer=4 << 20):
        self.proxy = LatencyProxy(upstream, listen, delay, rate, buffer)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        self.address = asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def stats(self):
        return asyncio.run_coroutine_threadsafe(self._snapshot(), self.loop).result(10)

    def reset(self):
        asyncio.run_coroutine_threadsafe(self._reset(), self.loop).result(10)

    async def _reset(self):
        self.proxy.stats.reset()

    async def _snapshot(self):
        return self.proxy.stats.snapshot()


# --- self-test: a tiny FTP server in-process, ftplib as the client ---------

class FakeFtpServer:
    """Just enough FTP for the self-test: USER, PASS, TYPE, NOOP, SIZE,
    PASV, EPSV, PORT, EPRT, RETR, STOR, QUIT; files live in a dict."""

    def __init__(self):
        self.files = {}
        self.sent_at = None  # perf_counter() when the last RETR's data was written
        self.received_at = None  # perf_counter() when the last STOR's first byte came
        self.address = None

    async def start(self):
        self.server = await asyncio.start_server(self.session, "127.0.0.1", 0)
        self.address = self.server.sockets[0].getsockname()[:2]

    async def session(self, reader, writer):
        data_conn = None  # a coroutine that yields (reader, writer)
        pasv_server = None

        def reply(text):
            writer.write(text.encode() + b"\r\n")

        reply("220 fake")
        try:
            while line := await reader.readline():
                cmd, _, arg = line.decode().strip().partition(" ")
                cmd = cmd.upper()
                if cmd in ("USER",):
                    reply("331 password")
                elif cmd in ("PASS", "TYPE", "NOOP"):
                    reply("230 ok" if cmd == "PASS" else "200 ok")
                elif cmd == "SIZE":
                    reply(f"213 {len(self.files[arg])}" if arg in self.files else "550 no")
                elif cmd in ("PASV", "EPSV"):
                    got = asyncio.get_running_loop().create_future()

                    async def on_conn(r, w, got=got):
                        if not got.done():
                            got.set_result((r, w))

                    pasv_server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
                    port = pasv_server.sockets[0].getsockname()[1]
                    data_conn = got
                    if cmd == "PASV":
                        reply(f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 255}).")
                    else:
                        reply(f"229 Entering Extended Passive Mode (|||{port}|)")
                elif cmd in ("PORT", "EPRT"):
                    if cmd == "PORT":
                        n = [int(x) for x in arg.split(",")]
                        host, port = ".".join(map(str, n[:4])), n[4] * 256 + n[5]
                    else:
                        d = arg[0]
                        _, _, host, port, _ = arg.split(d)
                        port = int(port)
                    data_conn = asyncio.ensure_future(asyncio.open_connection(host, port))
                    reply("200 ok")
                elif cmd in ("RETR", "STOR"):
                    if data_conn is None or (cmd == "RETR" and arg not in self.files):
                        reply("550 no")
                        continue
                    reply("150 here")
                    r, w = await data_conn
                    if pasv_server:
                        pasv_server.close()
                        pasv_server = None
                    if cmd == "RETR":
                        self.sent_at = time.perf_counter()
                        w.write(self.files[arg])
                        await w.drain()
                    else:
                        first = await r.read(1)
                        self.received_at = time.perf_counter()
                        self.files[arg] = first + await r.read()
                    w.close()
                    await w.wait_closed()
                    data_conn = None
                    reply("226 done")
                elif cmd == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:
                    reply("502 no")
                await writer.drain()
        finally:
            writer.close()


def self_test():
    """Checks the proxy against FakeFtpServer with ftplib; exits non-zero on failure."""
    import ftplib

    one_way = 0.02
    started = time.perf_counter()
    failures = []

    def check(ok, what):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    fake = FakeFtpServer()
    fake_loop = asyncio.new_event_loop()
    threading.Thread(target=fake_loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(fake.start(), fake_loop).result(5)
    payload = os.urandom(700_000)
    want = hashlib.sha256(payload).hexdigest()
    fake.files["big.bin"] = payload

    with ProxyThread(fake.address, delay=one_way) as p:
        ftp = ftplib.FTP()
        ftp.connect(*p.address, timeout=10)
        ftp.login("u", "p")
        # Delay: a NOOP costs one round trip (2 x one way), not less and not twice that.
        rtts = []
        for _ in range(3):
            t = time.perf_counter()
            ftp.voidcmd("NOOP")
            rtts.append(time.perf_counter() - t)
        check(2 * one_way <= min(rtts) < 4 * one_way,
              f"one NOOP takes one round trip: min {min(rtts) * 1000:.1f} ms for {2 * one_way * 1000:.0f} ms")
        # Flights: three commands in one write are one flight, three waited-for are three.
        p.reset()
        ftp.sock.sendall(b"NOOP\r\nNOOP\r\nNOOP\r\n")
        for _ in range(3):
            ftp.voidresp()
        s = p.stats()
        check(s["flights"] == 1 and s["commands"] == 3, f"a batch of 3 commands is 1 flight: {s}")
        p.reset()
        for _ in range(3):
            ftp.voidcmd("NOOP")
        s = p.stats()
        check(s["flights"] == 3 and s["commands"] == 3, f"3 waited-for commands are 3 flights: {s}")
        # Bytes arrive intact through every data-connection mode, delayed.
        for mode in ("PASV", "EPSV", "PORT", "EPRT"):
            ftp.set_pasv(mode in ("PASV", "EPSV"))
            ftp.af = socket.AF_INET
            if mode == "EPSV":
                # ftplib uses EPSV only for IPv6; ask for it through the same path.
                ftp.makepasv = lambda: ftplib.parse229(ftp.sendcmd("EPSV"), ftp.sock.getpeername())
            if mode == "EPRT":
                ftp.makeport = lambda: _eprt(ftp)
            p.reset()
            got = bytearray()
            t = time.perf_counter()
            ftp.retrbinary("RETR big.bin", got.extend)
            took = time.perf_counter() - t
            s = p.stats()
            check(hashlib.sha256(got).hexdigest() == want and s["data_connections"] == 1,
                  f"{mode}: {len(got)} bytes downloaded intact through the proxy ({s['data_connections']} data connection)")
            # TYPE, PASV/PORT, RETR then the data and 226: three round trips.
            check(took >= 6 * one_way, f"{mode}: the transfer took {took * 1000:.0f} ms >= 3 round trips")
            name = f"up-{mode}.bin"
            p.reset()
            source = _Reader(payload)
            ftp.storbinary(f"STOR {name}", source)
            check(fake.files.get(name) == payload and p.stats()["data_connections"] == 1,
                  f"{mode}: upload intact through the proxy")
            lag = fake.received_at - source.first_read
            check(lag >= one_way, f"{mode}: upload data delayed: its first byte came {lag * 1000:.1f} ms after it was sent")
            ftp.__dict__.pop("makepasv", None)
            ftp.__dict__.pop("makeport", None)
        # Download data delayed: read the data connection without waiting for the 150.
        ftp.set_pasv(True)
        host, port = ftp.makepasv()
        with socket.create_connection((host, port), timeout=10) as data:
            ftp.putcmd("RETR big.bin")
            first = data.recv(1)
            lag = time.perf_counter() - fake.sent_at
            while chunk := data.recv(CHUNK):
                first += chunk
        ftp.getresp()  # 150
        ftp.voidresp()  # 226
        check(first == payload and lag >= one_way,
              f"download data delayed: its first byte came {lag * 1000:.1f} ms after it was sent")
        ftp.quit()

    # Bandwidth cap: 700 kB at 4 MB/s per connection takes at least 175 ms.
    rate = 4_000_000
    with ProxyThread(fake.address, delay=0.0, rate=rate) as p:
        ftp = ftplib.FTP()
        ftp.connect(*p.address, timeout=10)
        ftp.login("u", "p")
        got = bytearray()
        t = time.perf_counter()
        ftp.retrbinary("RETR big.bin", got.extend)
        took = time.perf_counter() - t
        ftp.quit()
        floor = len(payload) / rate
        check(hashlib.sha256(got).hexdigest() == want and took >= floor,
              f"capped at {rate / 1e6:.0f} MB/s: {len(payload)} bytes in {took * 1000:.0f} ms (>= {floor * 1000:.0f} ms)")
    fake_loop.call_soon_threadsafe(fake_loop.stop)
    print(f"self-test {'FAILED' if failures else 'passed'} in {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


class _Reader:
    """A file-like reader over bytes, for ftplib's storbinary."""

    def __init__(self, data):
        self.data, self.pos = data, 0
        self.first_read = None

    def read(self, n):
        if self.first_read is None:
            self.first_read = time.perf_counter()
        chunk = self.data[self.pos: self.pos + n]
        self.pos += len(chunk)
        return chunk


def _eprt(ftp):
    """ftplib's makeport, but announcing the address with EPRT."""
    sock = socket.create_server(("127.0.0.1", 0))
    host, port = sock.getsockname()[:2]
    ftp.voidcmd(f"EPRT |1|{host}|{port}|")
    if ftp.timeout is not None:
        sock.settimeout(ftp.timeout)
    return sock


def parse_hostport(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", type=parse_hostport, help="the FTP server, HOST:PORT")
    ap.add_argument("--listen", type=parse_hostport, default=("127.0.0.1", 0), help="where to listen, HOST:PORT")
    ap.add_argument("--rtt-ms", type=float, default=0.0, help="round trip to add (each direction gets half)")
    ap.add_argument("--rate-mbit", type=float, help="bandwidth cap per connection and direction, Mbit/s")
    ap.add_argument("--self-test", action="store_true", help="check the proxy against an in-process fake server")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.upstream:
        ap.error("--upstream is required")

    async def serve():
        rate = args.rate_mbit * 1e6 / 8 if args.rate_mbit else None
        proxy = LatencyProxy(args.upstream, args.listen, args.rtt_ms / 2000, rate)
        host, port = await proxy.start()
        print(f"listening on {host}:{port}, relaying to {args.upstream[0]}:{args.upstream[1]} "
              f"with {args.rtt_ms:g} ms of round trip", flush=True)
        last = None
        while True:
            await asyncio.sleep(1)
            now = proxy.stats.snapshot()
            if now != last:
                print(now, flush=True)
                last = now

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
