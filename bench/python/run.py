"""Runs bench/python/ftplib_workload.py with ftplib and with ftpkit.ftplib
side by side, in one run, on the same server and files; prints a Markdown
table. Build the package first (`maturin develop --release` in python/).

Settings (environment): BENCH_PY_SERVER (host:port, default the interop
vsftpd from servers.env), BENCH_PY_HOME (that server's directory, to place
the files), BENCH_SIZE_MB (1024), BENCH_SMALL (2000), BENCH_REPS (3),
BENCH_WORK (/dev/shm: the client's files).
"""
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "ftplib_workload.py")
server = os.environ.get("BENCH_PY_SERVER", "127.0.0.1:2121")
home = os.environ.get("BENCH_PY_HOME", "/tmp/ftpkit-interop/vsftpd/home")
user = os.environ.get("FTPKIT_INTEROP_USER", "ftpkit")
password = os.environ.get("FTPKIT_INTEROP_PASS", "ftpkit-pass")
size_mb = int(os.environ.get("BENCH_SIZE_MB", "1024"))
small = int(os.environ.get("BENCH_SMALL", "2000"))
reps = int(os.environ.get("BENCH_REPS", "3"))
work = os.environ.get("BENCH_WORK", "/dev/shm")
host, port = server.rsplit(":", 1)
tag = "pybench-%d" % os.getpid()
IMPLS = ("ftplib", "ftpkit")


CPU = {}


def run(impl, *args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, SCRIPT, impl, args[0], host, port, user, password, *args[1:]],
        check=True, capture_output=True, text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault((impl, args[0]), []).append(cpu)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    size = size_mb << 20
    local = os.path.join(work, tag + ".src")
    with open(local, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size_mb):
            f.write(block)
    remote_big = tag + ".big"
    subprocess.run(["cp", local, os.path.join(home, remote_big)], check=True)
    os.chmod(os.path.join(home, remote_big), 0o644)
    for i in range(small):
        p = os.path.join(home, "%s-s%d" % (tag, i))
        with open(p, "wb") as f:
            f.write(os.urandom(4096))
        os.chmod(p, 0o644)
    # The two modules take turns within each repetition, so that both see
    # the same machine load (2 shared cores: other work shifts the figures).
    times = {(impl, op): [] for impl in IMPLS for op in ("down", "up", "small")}
    try:
        for _ in range(reps):
            for impl in IMPLS:
                out = local + "." + impl
                times[impl, "down"].append(run(impl, "download", remote_big, out))
                assert os.path.getsize(out) == size
                with open(out, "rb") as a, open(local, "rb") as b:
                    assert a.read(1 << 20) == b.read(1 << 20)
                os.unlink(out)
                times[impl, "up"].append(run(impl, "upload", local, tag + ".up-" + impl))
                uploaded = os.path.join(home, tag + ".up-" + impl)
                assert os.path.getsize(uploaded) == size
                # Every upload writes a new file: replacing one would add the
                # server's truncation of the old 1 GiB to the next run.
                os.unlink(uploaded)
                times[impl, "small"].append(run(impl, "small", str(small), tag + "-s"))
    finally:
        os.unlink(local)
        for name in os.listdir(home):
            if name.startswith(tag):
                try:
                    os.unlink(os.path.join(home, name))
                except OSError:
                    pass
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    print(f"server {server}, {size_mb} MiB file, {small} files of 4 KiB, {reps} runs each (median; best in brackets)")
    print()
    print("| module | download | upload | %d small files |" % small)
    print("|---|---|---|---|")
    for impl in IMPLS:
        name = "ftplib" if impl == "ftplib" else "ftpkit.ftplib"
        d, u, m = med[impl, "down"], med[impl, "up"], med[impl, "small"]
        print(f"| {name} | {d:.2f} s, {size_mb / d:.0f} MiB/s [{best[impl, 'down']:.2f} s] "
              f"| {u:.2f} s, {size_mb / u:.0f} MiB/s [{best[impl, 'up']:.2f} s] "
              f"| {m:.2f} s, {small / m:.0f} files/s [{best[impl, 'small']:.2f} s] |")
    print()
    print("client CPU time (user + system, whole process, median):", ", ".join(
        f"{impl} {op} {statistics.median(CPU[impl, op]):.2f} s"
        for impl in IMPLS for op in ("download", "upload", "small")))
    print()
    ratio = {op: med["ftplib", op] / med["ftpkit", op] for op in ("down", "up", "small")}
    print(f"ftpkit.ftplib vs ftplib (median): download x{ratio['down']:.2f}, upload x{ratio['up']:.2f}, "
          f"small files x{ratio['small']:.2f}")

if __name__ == "__main__":
    main()
