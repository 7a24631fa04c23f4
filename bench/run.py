#!/usr/bin/env python3
"""ftpkit's benchmark: ftpkit and its peers on the same files, against the
same loopback server, in one run; figures as ratios to ftpkit's.

Run it with bench/run.sh (it builds everything and starts the servers).
Settings from the environment:
  BENCH_SIZE_MB   size of the large file (default 1024)
  BENCH_REPS      repetitions per measurement; the median is reported (default 5)
  BENCH_MIN_S     a row whose clients ran for less than this many seconds each
                  gets more rounds, up to 3 x BENCH_REPS (default 8): short rows
                  are the noisiest
  BENCH_SMALL     number of 4 KiB files (default 2000)
  BENCH_LIST      entries in the listing directory (default 100000)
  BENCH_RSS_MB    size of the file for the flat-memory check (default 4096)
  BENCH_WORK      where clients write (default /dev/shm: the disk is not measured)
  BENCH_LSJSON    entries listed by `ls --json` with LIST and with MLSD (default 50000)
  BENCH_ONLY      comma-separated workloads to run: big, small, mirror, list, lsjson, tls,
                  rss, parse, latency (default: all)
  The latency table (plain FTP through bench/latency_proxy.py):
  BENCH_LAT_RTTS  round trips to add, in ms (default 0,20,80)
  BENCH_LAT_FILES 4 KiB files downloaded in one session (default 100)
  BENCH_LAT_TREE  files of the tree copied by mirror, 30 per directory (default 300)
  BENCH_LAT_BIG_MB size of the one big file (default 32)
  BENCH_LAT_SEG_MB size of the file fetched over 4 connections (default 64)
  BENCH_LAT_MBIT  bandwidth cap per connection for the big file, Mbit/s (default 100)

Every download goes to a file, and every file that moved is checked by
SHA-256 after the timed part.
"""
import contextlib
import hashlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "release")
PEERS = os.path.join(ROOT, "bench", "peers", "target", "release")
ENV_DIR = os.environ.get("FTPKIT_INTEROP_DIR", "/tmp/ftpkit-interop")

SIZE_MB = int(os.environ.get("BENCH_SIZE_MB", "1024"))
REPS = int(os.environ.get("BENCH_REPS", "5"))
SMALL = int(os.environ.get("BENCH_SMALL", "2000"))
LISTING = int(os.environ.get("BENCH_LIST", "100000"))
LSJSON = int(os.environ.get("BENCH_LSJSON", "50000"))
MIN_S = float(os.environ.get("BENCH_MIN_S", "8"))
ONLY = [w for w in os.environ.get("BENCH_ONLY", "").split(",") if w]
RSS_MB = int(os.environ.get("BENCH_RSS_MB", "4096"))
WORK = os.environ.get("BENCH_WORK", "/dev/shm" if os.path.isdir("/dev/shm") else None)
LAT_RTTS = [int(r) for r in os.environ.get("BENCH_LAT_RTTS", "0,20,80").split(",") if r]
LAT_FILES = int(os.environ.get("BENCH_LAT_FILES", "100"))
LAT_TREE = int(os.environ.get("BENCH_LAT_TREE", "300"))
LAT_BIG_MB = int(os.environ.get("BENCH_LAT_BIG_MB", "32"))
# Segments pay a login per connection before their first byte (on the bench
# vsftpd a PAM login of 50-200 ms on 2 cores): the file they share is
# larger, so that the row measures the transfer more than the logins.
LAT_SEG_MB = int(os.environ.get("BENCH_LAT_SEG_MB", "64"))
LAT_MBIT = float(os.environ.get("BENCH_LAT_MBIT", "100"))

USER, PASS = "ftpkit", "ftpkit-pass"
HOST = "127.0.0.1"
# Plain: vsftpd (it sends with sendfile and is the fastest of the four here).
# TLS: a proftpd instance that does not require TLS session reuse, so that
# every peer can run (Python's ftplib cannot reuse sessions); pure-ftpd's TLS
# was the bottleneck at about 25 MB/s for every client.
# FTPKIT_INTEROP_PORT_OFFSET moves every port (as in interop-servers.sh), so
# the bench's servers can run beside the interop suite's.
OFFSET = int(os.environ.get("FTPKIT_INTEROP_PORT_OFFSET", "0"))
# `pid`: the server's listening process, whose reaped sessions' CPU time
# the report shows (see server_cpu).
PLAIN = dict(port=2121 + OFFSET, home=f"{ENV_DIR}/vsftpd/home", pid=f"{ENV_DIR}/vsftpd/pid",
             tls=False, server="vsftpd")
# MLSD: proftpd (vsftpd has none), plain.
MLSD = dict(port=2122 + OFFSET, home=f"{ENV_DIR}/proftpd/home", pid=f"{ENV_DIR}/proftpd/pid",
            tls=False, server="proftpd")
TLS = dict(port=2135 + OFFSET, home=f"{ENV_DIR}/proftpd-bench/home", pid=f"{ENV_DIR}/proftpd-bench/pid",
           tls=True, server="proftpd, explicit TLS")
CA = f"{ENV_DIR}/ca.pem"

FTPLIB = r"""
import ftplib, ssl, sys
op, port, tls, block, remote, local = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), sys.argv[5], sys.argv[6]
if tls:
    ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=sys.argv[7]))
else:
    ftp = ftplib.FTP()
ftp.connect("127.0.0.1", port)
ftp.login("ftpkit", "ftpkit-pass")
if tls:
    ftp.prot_p()
if op == "get":
    with open(local, "wb") as f:
        ftp.retrbinary("RETR " + remote, f.write, blocksize=block)
elif op == "put":
    with open(local, "rb") as f:
        ftp.storbinary("STOR " + remote, f, blocksize=block)
elif op == "getdir":
    import os
    for name in ftp.nlst(remote):
        base = name.rsplit("/", 1)[-1]
        if base in (".", ".."):  # pure-ftpd lists them
            continue
        with open(os.path.join(local, base), "wb") as f:
            ftp.retrbinary("RETR " + remote + "/" + base, f.write, blocksize=block)
elif op == "nlst":
    print(len(ftp.nlst(remote)))
ftp.quit()
"""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (wall s, cpu s, peak RSS KiB)."""
    fmt = "%e %U %S %M"
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-o", out.name, "-f", fmt] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-400:]}")
        fields = out.read().split()[-4:]
        _, user, system, rss = fields
        return wall, float(user) + float(system), int(rss)


def url(srv, path):
    scheme = "ftpes" if srv["tls"] else "ftp"
    return f"{scheme}://{USER}:{PASS}@{HOST}:{srv['port']}/{path}"


def clients(srv, op, remote, local, count=SMALL):
    """Command lines of every client for one operation (`count`: the number
    of files of a getdir, named f0000.bin and up)."""
    port, tls = srv["port"], srv["tls"]
    ftpkit = [os.path.join(TARGET, "ftpkit"), "-q"] + (["--cacert", CA] if tls else [])
    lftp_tls = (f"set ssl:ca-file {CA}; set ftp:ssl-force true; set ftp:ssl-protect-data true; "
                if tls else "set ftp:ssl-allow no; ")
    lftp = ["lftp", "-p", str(port), "-u", f"{USER},{PASS}", "-e"]
    py = lambda block: [sys.executable, "-c", FTPLIB, op, str(port), "1" if tls else "0", str(block), remote, local] + ([CA] if tls else [])
    curl_tls = ["--ssl-reqd", "--cacert", CA] if tls else []
    supp = [os.path.join(PEERS, "suppaftp-bench"), f"{HOST}:{port}", USER, PASS]
    # The async client (examples/async_transfer.rs): same operations, on tokio.
    asynk = lambda remote_path, local_path: ([os.path.join(TARGET, "examples", "async_transfer"), op, f"{HOST}:{port}",
                                              USER, PASS, remote_path, local_path] + ([CA] if tls else []))
    c = {}
    if op == "get":
        # Peers trust the server's 226; "ftpkit" does the same (--no-verify)
        # for a like-for-like figure, and "ftpkit (verified)" shows the
        # default: SIZE after, and a content hash where the server has one.
        c["ftpkit"] = ftpkit + ["get", "--no-verify", "-o", local, url(srv, remote)]
        c["ftpkit (verified)"] = ftpkit + ["get", "-o", local, url(srv, remote)]
        c["ftpkit async"] = asynk(remote, local)
        c["curl"] = ["curl", "-s", "-S"] + curl_tls + ["-o", local, f"ftp://{USER}:{PASS}@{HOST}:{port}/{remote}"]
        c["lftp"] = lftp + [lftp_tls + f"get {remote} -o {local}; bye", HOST]
        if not tls:
            c["suppaftp"] = supp + ["get", remote, local]
    elif op == "put":
        c["ftpkit"] = ftpkit + ["put", "--no-verify", local, url(srv, remote)]
        c["ftpkit (verified)"] = ftpkit + ["put", local, url(srv, remote)]
        c["ftpkit async"] = asynk(remote, local)
        c["curl"] = ["curl", "-s", "-S"] + curl_tls + ["-T", local, f"ftp://{USER}:{PASS}@{HOST}:{port}/{remote}"]
        c["lftp"] = lftp + [lftp_tls + f"put {local} -o {remote}; bye", HOST]
        if not tls:
            c["suppaftp"] = supp + ["put", local, remote]
    elif op == "getdir":
        # "ftpkit": the verified download of each file (a `.part`, the size
        # checked), overlapped with the next; "ftpkit (stream)": each file
        # streamed with `get`, unchecked, as the peers do.
        get_many = [os.path.join(TARGET, "examples", "get_many"), f"{HOST}:{port}", USER, PASS, remote, local]
        c["ftpkit"] = get_many
        c["ftpkit (stream)"] = get_many + ["--stream"]
        c["ftpkit async"] = asynk(remote, local)
        c["curl"] = ["curl", "-s", "-S", "--create-dirs", f"ftp://{USER}:{PASS}@{HOST}:{port}/{remote}/f[0000-{count - 1:04d}].bin",
                     "-o", f"{local}/f#1.bin"]
        c["lftp"] = lftp + [lftp_tls + f"mirror {remote} {local}; bye", HOST]
        c["suppaftp"] = supp + ["getdir", remote, local]
    elif op in ("list", "mlsd"):
        # Parsed listings: ftpkit's `ls --json` (MLSD where the server has
        # it, LIST otherwise), suppaftp's parsers; curl prints LIST's lines
        # unparsed, lftp's `cls -l` parses (MLSD where offered).
        c = {"ftpkit": ftpkit + ["ls", "--json", url(srv, remote + "/")],
             "suppaftp": supp + [op, remote],
             "lftp": lftp + [lftp_tls + f"cls -l {remote}/; bye", HOST]}
        if op == "list":
            c["curl (LIST, unparsed)"] = ["curl", "-s", "-S", f"ftp://{USER}:{PASS}@{HOST}:{port}/{remote}/"]
        return c
    elif op == "nlst":
        # The directory's URL, as curl is given: `ls` lists from inside it.
        c["ftpkit"] = ftpkit + ["ls", url(srv, remote + "/")]
        c["ftpkit async"] = asynk(remote, local)
        c["curl"] = ["curl", "-s", "-S", "-l", f"ftp://{USER}:{PASS}@{HOST}:{port}/{remote}/"]
        c["lftp"] = lftp + [lftp_tls + f"nlist {remote}; bye", HOST]
        c["suppaftp"] = supp + ["nlst", remote]
    c["ftplib (8 KiB)"] = py(8192)
    if op in ("get", "put"):
        c["ftplib (1 MiB)"] = py(1 << 20)
    return c


def rawtcp(direction, src, dst):
    """The ceiling: the same bytes over one loopback TCP connection."""
    raw = os.path.join(PEERS, "rawtcp")
    if direction == "get":  # the timed client receives
        sender = subprocess.Popen([raw, "send", src], stdout=subprocess.PIPE, text=True)
        port = sender.stdout.readline().strip()
        result = timed([raw, "recv", port, dst])
        sender.wait()
    else:  # the timed client sends
        sender_cmd = ["/usr/bin/time", "-o", dst + ".time", "-f", "%e %U %S %M", raw, "send", src]
        start = time.perf_counter()
        sender = subprocess.Popen(sender_cmd, stdout=subprocess.PIPE, text=True)
        port = sender.stdout.readline().strip()
        subprocess.run([raw, "recv", port, dst], check=True)
        sender.wait()
        wall = time.perf_counter() - start
        _, user, system, rss = open(dst + ".time").read().split()[-4:]
        os.remove(dst + ".time")
        result = (wall, float(user) + float(system), int(rss))
    return result


def server_cpu(srv):
    """CPU seconds the server's sessions have used so far: the listening
    process's reaped children (cutime + cstime; both servers fork a process
    a session, and vsftpd's session forks its unprivileged half). Waits (up
    to 2 s) until no session is left, so that the run just ended is counted.
    None when the server's process cannot be read."""
    try:
        with open(srv["pid"]) as f:
            pid = int(f.read().split()[0])
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                if not f.read().strip():
                    break
            time.sleep(0.01)
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, KeyError):
        return None


def measure(name, runs, check, srv=None):
    """Median of REPS runs of each client; check() verifies outside the timing.

    Clients take turns within each round, the order rotated by one each
    round (so that no client always runs first, or always right after the
    same one), and dirty pages are flushed before every run, so that no
    client always runs right after a large write (the server's disk
    writeback would otherwise land on it). Each row also keeps every
    round's wall time, for the spread and the paired ratio in report().
    A row whose clients each ran for less than MIN_S seconds gets more
    rounds, up to 3 x REPS. With `srv`, each run also counts the server's
    CPU time (server_cpu), for the report's "server busy" column."""
    samples = {client: [] for client in runs}
    failed = set()
    order = list(runs)
    round_no = 0
    while round_no < REPS or (
            round_no < 3 * REPS
            and min((sum(s[0] for s in samples[c]) for c in runs if c not in failed), default=MIN_S) < MIN_S):
        shift = round_no % len(order)
        for client in order[shift:] + order[:shift]:
            if client in failed:
                continue
            os.sync()
            before = server_cpu(srv) if srv else None
            try:
                wall, cpu, rss = runs[client]()
                after = server_cpu(srv) if before is not None else None
                busy = None if after is None or client.startswith("raw TCP") else (after - before) / wall
                samples[client].append((wall, cpu, rss, busy))
                check(client)
            except Exception as e:  # a peer that fails is reported, not fatal
                print(f"  {client}: FAILED: {e}", file=sys.stderr)
                failed.add(client)
        round_no += 1
    rows = {}
    for client, got in samples.items():
        if client in failed or not got:
            continue
        busy = [s[3] for s in got if s[3] is not None]
        rows[client] = (statistics.median(s[0] for s in got),
                        statistics.median(s[1] for s in got),
                        max(s[2] for s in got),
                        [s[0] for s in got],
                        statistics.median(busy) if busy else None)
    return rows


def report(title, rows, amount, unit):
    """One table: median rate, its spread over the rounds (slowest to
    fastest), and the paired ratio: the median over rounds of ftpkit's
    time divided by the client's in the same round (above 1: the client
    was faster than ftpkit), which holds when the machine's speed drifts
    between rounds."""
    print(f"\n## {title}")
    if "ftpkit" not in rows:
        print("ftpkit did not run")
        return
    base = amount / rows["ftpkit"][0]
    mine = rows["ftpkit"][3]
    print(f"| client | {unit} | spread | ratio to ftpkit | paired ratio | CPU s{' per GiB' if unit == 'MB/s' else ''} | peak RSS MiB | server busy |")
    print("|---|---|---|---|---|---|---|---|")
    gib = amount / 1024 if unit == "MB/s" else 1
    for client, (wall, cpu, rss, walls, busy) in sorted(rows.items(), key=lambda r: r[1][0]):
        rate = amount / wall
        spread = f"{amount / max(walls):,.0f}–{amount / min(walls):,.0f}"
        paired = (f"{statistics.median(a / b for a, b in zip(mine, walls)):.2f}"
                  if len(walls) == len(mine) else "–")
        busy = "–" if busy is None else f"{busy:.0%}"
        print(f"| {client} | {rate:,.1f} | {spread} | {rate / base:.2f} | {paired} | {cpu / gib:.2f} | {rss / 1024:.1f} | {busy} |")
    if any(r[4] is not None for r in rows.values()):
        print("\nServer busy: the server's CPU time over the run's wall time (one core: 100 %). "
              "Where it is near 100 % for every client, the server is the limit and the row measures it.")


def big(srv, label):
    size = SIZE_MB << 20
    home = srv["home"]
    work = tempfile.mkdtemp(prefix="ftpkit-bench-", dir=WORK)
    src = os.path.join(home, "bench-big.bin")
    if not os.path.exists(src) or os.path.getsize(src) != size:
        with open(src, "wb") as f:
            for _ in range(SIZE_MB):
                f.write(os.urandom(1 << 20))
        shutil.chown(src, USER, USER)
    want = sha256(src)
    local = os.path.join(work, "down.bin")

    def check_down(client):
        got = sha256(local)
        os.remove(local)
        if got != want:
            raise RuntimeError(f"{client}: downloaded file differs")

    runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in clients(srv, "get", "bench-big.bin", local).items()}
    if not srv["tls"]:
        runs["raw TCP (ceiling)"] = lambda: rawtcp("get", src, local)
    report(f"Download {SIZE_MB} MiB, {label} ({srv['server']})", measure("get", runs, check_down, srv), SIZE_MB * 1.048576, "MB/s")

    up_src = os.path.join(work, "up.bin")
    shutil.copyfile(src, up_src)
    dest = os.path.join(home, "bench-up.bin")

    def check_up(client):
        got = sha256(dest)
        os.remove(dest)
        if got != want:
            raise RuntimeError(f"{client}: uploaded file differs")

    runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in clients(srv, "put", "bench-up.bin", up_src).items()}
    if not srv["tls"]:
        runs["raw TCP (ceiling)"] = lambda: rawtcp("put", up_src, dest)
    report(f"Upload {SIZE_MB} MiB, {label} ({srv['server']})", measure("put", runs, check_up, srv), SIZE_MB * 1.048576, "MB/s")
    shutil.rmtree(work)


def small(srv):
    d, want = small_tree(srv)
    out = tempfile.mkdtemp(prefix="ftpkit-bench-small-", dir=WORK)

    def check(client):
        got = {n: sha256(os.path.join(out, n)) for n in os.listdir(out)}
        for n in os.listdir(out):
            os.remove(os.path.join(out, n))
        if got != want:
            raise RuntimeError(f"{client}: {len(got)} files, {sum(got.get(n) == h for n, h in want.items())} matching")

    runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in clients(srv, "getdir", "bench-small", out).items()}
    report(f"{SMALL} files of 4 KiB in one session ({srv['server']})", measure("small", runs, check, srv), SMALL, "files/s")
    shutil.rmtree(out)


def listing(srv):
    d = os.path.join(srv["home"], "bench-list")
    if not os.path.isdir(d) or len(os.listdir(d)) != LISTING:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i in range(LISTING):
            open(os.path.join(d, f"entry-{i:06d}.txt"), "w").close()
        shutil.chown(d, USER, USER)
    runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in clients(srv, "nlst", "bench-list", "-").items()}
    report(f"NLST of {LISTING} entries ({srv['server']})", measure("list", runs, lambda c: None, srv), LISTING, "entries/s")


def listing_json():
    """`ls --json` of LSJSON entries, with LIST (vsftpd) and with MLSD
    (proftpd): entries/s and the peak memory of the listing."""
    for srv, op in ((PLAIN, "list"), (MLSD, "mlsd")):
        d = os.path.join(srv["home"], "bench-lsjson")
        if not os.path.isdir(d) or len(os.listdir(d)) != LSJSON:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for i in range(LSJSON):
                with open(os.path.join(d, f"entry-{i:06d}.txt"), "w") as f:
                    f.write("x" * (i % 100))
            for n in os.listdir(d):
                shutil.chown(os.path.join(d, n), USER, USER)
            shutil.chown(d, USER, USER)
        cmds = clients(srv, op, "bench-lsjson", "-")
        # Every entry arrives (outside the timing): ftpkit prints one line
        # an entry, suppaftp one an entry it parsed.
        for client in ("ftpkit", "suppaftp"):
            if os.path.exists(cmds[client][0]):
                out = subprocess.run(cmds[client], capture_output=True, text=True)
                got = len(out.stdout.splitlines())
                if got != LSJSON:
                    print(f"  {client} ({op.upper()}): listed {got} entries, not {LSJSON}", file=sys.stderr)
        runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in cmds.items()}
        report(f"`ls --json` of {LSJSON} entries with {op.upper()} ({srv['server']})",
               measure("lsjson", runs, lambda c: None, srv), LSJSON, "entries/s")


def small_tree(srv, name="bench-small", count=SMALL):
    """`count` files of 4 KiB on the server, and their hashes."""
    home = srv["home"]
    d = os.path.join(home, name)
    if not os.path.isdir(d) or len(os.listdir(d)) != count:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i in range(count):
            with open(os.path.join(d, f"f{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(4096))
        for root, dirs, files in os.walk(d):
            for n in dirs + files:
                shutil.chown(os.path.join(root, n), USER, USER)
        shutil.chown(d, USER, USER)
    return d, {n: sha256(os.path.join(d, n)) for n in os.listdir(d)}


def mirror(srv):
    """The small files again, as a tree copy over four connections."""
    d, want = small_tree(srv)
    out = tempfile.mkdtemp(prefix="ftpkit-bench-mirror-", dir=WORK)
    dest = os.path.join(out, "m")

    def check(client):
        got = {n: sha256(os.path.join(dest, n)) for n in os.listdir(dest)}
        shutil.rmtree(dest)
        if got != want:
            raise RuntimeError(f"{client}: {len(got)} files, {sum(got.get(n) == h for n, h in want.items())} matching")

    port = srv["port"]
    runs = {
        "ftpkit": [os.path.join(TARGET, "ftpkit"), "-q", "mirror", "--parallel", "4", url(srv, "bench-small/"), dest],
        "lftp": ["lftp", "-p", str(port), "-u", f"{USER},{PASS}", "-e",
                 f"set ftp:ssl-allow no; mirror --parallel=4 bench-small {dest}; bye", HOST],
    }
    runs = {c: (lambda cmd=cmd: timed(cmd)) for c, cmd in runs.items()}
    report(f"mirror of {SMALL} files of 4 KiB, 4 connections ({srv['server']})",
           measure("mirror", runs, check, srv), SMALL, "files/s")
    shutil.rmtree(out)


def tree(srv, name, count):
    """`count` files of 4 KiB on the server in directories of 30, and their
    hashes by relative path."""
    d = os.path.join(srv["home"], name)
    if not os.path.isdir(d) or sum(len(f) for _, _, f in os.walk(d)) != count:
        shutil.rmtree(d, ignore_errors=True)
        for i in range(count):
            sub = os.path.join(d, f"d{i // 30:02d}")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, f"f{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(4096))
        chown_tree(d)
    return d, tree_hashes(d)


def chown_tree(d):
    shutil.chown(d, USER, USER)
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            shutil.chown(os.path.join(root, n), USER, USER)


def tree_hashes(d):
    """SHA-256 of every file under d, by path relative to d."""
    return {os.path.relpath(os.path.join(root, n), d): sha256(os.path.join(root, n))
            for root, _, files in os.walk(d) for n in files}


def runnable(cmd):
    """Whether a client's program is there (bench/run.sh builds them all;
    a direct run of this script may not have every one)."""
    return os.access(cmd[0], os.X_OK) if os.path.isabs(cmd[0]) else shutil.which(cmd[0]) is not None


def latency(srv):
    """ftpkit and its peers behind bench/latency_proxy.py at each round trip
    of BENCH_LAT_RTTS: files/s (MB/s for the big file) and round trips per
    file, counted by the proxy as the client's flights of commands."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from latency_proxy import ProxyThread

    small_dir, small_want = small_tree(srv, "bench-lat-small", LAT_FILES)
    tree_dir, tree_want = tree(srv, "bench-lat-tree", LAT_TREE)
    def random_file(name, mb):
        path = os.path.join(srv["home"], name)
        if not os.path.exists(path) or os.path.getsize(path) != mb << 20:
            with open(path, "wb") as f:
                for _ in range(mb):
                    f.write(os.urandom(1 << 20))
            shutil.chown(path, USER, USER)
        return sha256(path)

    big_want = random_file("bench-lat-big.bin", LAT_BIG_MB)
    seg_want = random_file("bench-lat-seg.bin", LAT_SEG_MB)
    work = tempfile.mkdtemp(prefix="ftpkit-bench-lat-", dir=WORK)
    out = os.path.join(work, "out")
    rate = LAT_MBIT * 1e6 / 8

    def check_dir(want):
        def check(client):
            got = tree_hashes(out) if os.path.isdir(out) else {}
            shutil.rmtree(out, ignore_errors=True)
            if got != want:
                raise RuntimeError(f"{client}: {len(got)} files, "
                                   f"{sum(got.get(n) == h for n, h in want.items())} matching")
        return check

    def check_file(want):
        def check(client):
            got = sha256(out) if os.path.exists(out) else None
            with contextlib.suppress(FileNotFoundError):
                os.remove(out)
            if got != want:
                raise RuntimeError(f"{client}: downloaded file differs")
        return check

    def prepare_dir():
        os.makedirs(out, exist_ok=True)

    def small_cmds(psrv):
        return clients(psrv, "getdir", "bench-lat-small", out, count=LAT_FILES)

    def mirror_cmds(psrv):
        return {
            "ftpkit": [os.path.join(TARGET, "ftpkit"), "-q", "mirror", "--parallel", "4",
                       url(psrv, "bench-lat-tree/"), out],
            "lftp": ["lftp", "-p", str(psrv["port"]), "-u", f"{USER},{PASS}", "-e",
                     f"set ftp:ssl-allow no; mirror --parallel=4 bench-lat-tree {out}; bye", HOST],
        }

    def big_cmds(psrv):
        return clients(psrv, "get", "bench-lat-big.bin", out)

    def segmented_cmds(psrv):
        # Four connections for one file: ftpkit's ranges against lftp's pget;
        # ftpkit over one connection too, for the gain the segments bring.
        # Like the big-file row, "ftpkit" trusts the 226s as the peer does.
        ftpkit = [os.path.join(TARGET, "ftpkit"), "-q", "get"]
        src = url(psrv, "bench-lat-seg.bin")
        return {
            "ftpkit": ftpkit + ["--segments", "4", "--no-verify", "-o", out, src],
            "ftpkit (verified)": ftpkit + ["--segments", "4", "-o", out, src],
            "ftpkit (1 connection)": ftpkit + ["--no-verify", "-o", out, src],
            "lftp pget -n 4": ["lftp", "-p", str(psrv["port"]), "-u", f"{USER},{PASS}", "-e",
                               f"set ftp:ssl-allow no; pget -n 4 bench-lat-seg.bin -o {out}; bye", HOST],
        }

    workloads = [
        (f"{LAT_FILES} files of 4 KiB in one session", small_cmds, None, prepare_dir, check_dir(small_want),
         LAT_FILES, LAT_FILES, "files/s"),
        (f"mirror of a {LAT_TREE}-file tree ({math.ceil(LAT_TREE / 30)} directories), 4 connections",
         mirror_cmds, None, lambda: None, check_dir(tree_want), LAT_TREE, LAT_TREE, "files/s"),
        (f"one file of {LAT_BIG_MB} MiB, {LAT_MBIT:g} Mbit/s per connection", big_cmds, rate, lambda: None,
         check_file(big_want), LAT_BIG_MB * 1.048576, 1, "MB/s"),
        (f"one file of {LAT_SEG_MB} MiB over 4 connections (segments), {LAT_MBIT:g} Mbit/s per connection",
         segmented_cmds, rate, lambda: None, check_file(seg_want), LAT_SEG_MB * 1.048576, 1, "MB/s"),
    ]
    print(f"\n## Latency: vsftpd behind bench/latency_proxy.py, round trip of {', '.join(map(str, LAT_RTTS))} ms")
    print("Round trips per file: the client's flights of commands on its control connections "
          "(logins included), divided by the files; at 0 ms a pipelined batch may count more than once.")
    for title, cmds, cap, prepare, check, amount, files, unit in workloads:
        # results[client][rtt] = (rate, round trips per file)
        results = {}
        for rtt in LAT_RTTS:
            with ProxyThread((HOST, srv["port"]), delay=rtt / 2000, rate=cap) as proxy:
                psrv = dict(srv, port=proxy.address[1])
                runs = {c: cmd for c, cmd in cmds(psrv).items() if runnable(cmd)}
                samples = {c: [] for c in runs}
                failed = set()
                for _ in range(REPS):
                    for client, cmd in runs.items():
                        if client in failed:
                            continue
                        prepare()
                        proxy.reset()
                        try:
                            wall = timed(cmd)[0]
                            flights = proxy.stats()["flights"]
                            check(client)
                            samples[client].append((wall, flights))
                        except Exception as e:  # a peer that fails is reported, not fatal
                            print(f"  {client} at {rtt} ms: FAILED: {e}", file=sys.stderr)
                            failed.add(client)
                            shutil.rmtree(out, ignore_errors=True)
                            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                                os.remove(out)
                for client, got in samples.items():
                    if got and client not in failed:
                        wall = statistics.median(g[0] for g in got)
                        flights = statistics.median(g[1] for g in got)
                        results.setdefault(client, {})[rtt] = (amount / wall, flights / files)
        print(f"\n### {title}")
        print("| client | " + " | ".join(f"{unit} at {r} ms | round trips per file" for r in LAT_RTTS) + " |")
        print("|---|" + "---|---|" * len(LAT_RTTS))
        order = sorted(results, key=lambda c: -results[c].get(LAT_RTTS[-1], (0, 0))[0])
        for client in order:
            cells = []
            for r in LAT_RTTS:
                rate_, rtf = results[client].get(r, (None, None))
                cells.append("failed | -" if rate_ is None else f"{rate_:,.1f} | {rtf:.2f}")
            print(f"| {client} | " + " | ".join(cells) + " |")
        peers = [c for c in results if not c.startswith("ftpkit")]
        if "ftpkit" in results and peers:
            cells = []
            for r in LAT_RTTS:
                rates = [(results[c][r][0], c) for c in peers if r in results[c]]
                mine = results["ftpkit"].get(r)
                if mine and rates:
                    best_rate, best = max(rates)
                    cells.append(f"{mine[0] / best_rate:.2f} (vs {best}) | ")
                else:
                    cells.append("- | ")
            print("| ftpkit / best peer | " + " | ".join(cells) + " |")
        missing = [c for c, cmd in cmds(srv).items() if not runnable(cmd)]
        if missing:
            print(f"\nNot built here, not run: {', '.join(missing)}.")
    shutil.rmtree(work)


def flat_memory(srv):
    """Peak RSS of ftpkit moving 1 GiB and BENCH_RSS_MB: it must not grow."""
    home = srv["home"]
    work = tempfile.mkdtemp(prefix="ftpkit-bench-rss-", dir=WORK)
    print(f"\n## ftpkit peak RSS by file size ({srv['server']})")
    print("| file | download MiB | upload MiB |")
    print("|---|---|---|")
    for mb in sorted({1024, RSS_MB}):
        src = os.path.join(home, f"bench-rss-{mb}.bin")
        with open(src, "wb") as f:
            f.truncate(mb << 20)  # zeros: the content does not matter here
        shutil.chown(src, USER, USER)
        local = os.path.join(work, "rss.bin")
        ftpkit = [os.path.join(TARGET, "ftpkit"), "-q"]
        _, _, down = timed(ftpkit + ["get", "-o", local, url(srv, f"bench-rss-{mb}.bin")])
        ok = os.path.getsize(local) == mb << 20
        os.remove(src)
        _, _, up = timed(ftpkit + ["put", local, url(srv, f"bench-rss-{mb}.bin")])
        ok = ok and os.path.getsize(src) == mb << 20
        os.remove(src)
        os.remove(local)
        print(f"| {mb} MiB | {down / 1024:.1f} | {up / 1024:.1f} |{'' if ok else ' SIZE MISMATCH'}")
    shutil.rmtree(work)


def parse_rate():
    out = subprocess.run([os.path.join(TARGET, "examples", "parse_rate")], capture_output=True, text=True, check=True)
    print("\n## Listing parse rate (1,000,000 lines each, in memory, one core)")
    print("| format | lines/s |")
    print("|---|---|")
    for line in out.stdout.splitlines():
        name, rate = line.rsplit(":", 1)
        print(f"| {name.replace(' lines/s', '')} | {int(rate):,} |")


def main():
    print(f"# ftpkit benchmark: {SIZE_MB} MiB files, {REPS} runs each (median), on {os.cpu_count()} cores")
    work = {
        "big": lambda: big(PLAIN, "plain FTP"),
        "small": lambda: small(PLAIN),
        "mirror": lambda: mirror(PLAIN),
        "list": lambda: listing(PLAIN),
        "lsjson": listing_json,
        "tls": lambda: big(TLS, "explicit TLS"),
        "rss": lambda: flat_memory(PLAIN),
        "parse": parse_rate,
        "latency": lambda: latency(PLAIN),
    }
    for name, run in work.items():
        if not ONLY or name in ONLY:
            run()


if __name__ == "__main__":
    main()
