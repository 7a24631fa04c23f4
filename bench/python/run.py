"""Runs bench/python/ftplib_workload.py with ftplib and with ftpkit.ftplib
side by side, in one run, on the same server and files; prints a Markdown
table. Build the package first (`maturin develop --release` in python/).

Settings (environment): BENCH_PY_SERVER (host:port, default the interop
vsftpd from servers.env), BENCH_PY_HOME (that server's directory, to place
the files), BENCH_SIZE_MB (1024), BENCH_SMALL (2000), BENCH_REPS (3),
BENCH_WORK (/dev/shm: the client's files).
"""
import os
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


def run(impl, *args):
    out = subprocess.run(
        [sys.executable, SCRIPT, impl, args[0], host, port, user, password, *args[1:]],
        check=True, capture_output=True, text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def median(impl, *args):
    return statistics.median(run(impl, *args) for _ in range(reps))


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
    rows = []
    try:
        for impl in ("ftplib", "ftpkit"):
            down = median(impl, "download", remote_big, local + "." + impl)
            with open(local + "." + impl, "rb") as a, open(local, "rb") as b:
                assert a.read(1 << 20) == b.read(1 << 20)
            assert os.path.getsize(local + "." + impl) == size
            os.unlink(local + "." + impl)
            up = median(impl, "upload", local, tag + ".up-" + impl)
            assert os.path.getsize(os.path.join(home, tag + ".up-" + impl)) == size
            many = median(impl, "small", str(small), tag + "-s")
            rows.append((impl, down, up, many))
    finally:
        os.unlink(local)
        for name in os.listdir(home):
            if name.startswith(tag):
                try:
                    os.unlink(os.path.join(home, name))
                except OSError:
                    pass
    base = {r[0]: r for r in rows}
    print(f"server {server}, {size_mb} MiB file, {small} files of 4 KiB, median of {reps}")
    print()
    print("| module | download | upload | %d small files |" % small)
    print("|---|---|---|---|")
    for impl, down, up, many in rows:
        print(f"| {'ftplib' if impl == 'ftplib' else 'ftpkit.ftplib'} | {down:.2f} s ({size_mb / down:.0f} MiB/s) "
              f"| {up:.2f} s ({size_mb / up:.0f} MiB/s) | {many:.2f} s ({small / many:.0f} files/s) |")
    f, k = base["ftplib"], base["ftpkit"]
    print()
    print(f"ftpkit.ftplib vs ftplib: download x{f[1] / k[1]:.2f}, upload x{f[2] / k[2]:.2f}, small files x{f[3] / k[3]:.2f}")


if __name__ == "__main__":
    main()
