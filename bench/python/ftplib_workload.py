"""One ftplib script, run unchanged with the standard library's ftplib and
with ftpkit.ftplib: only the import differs (chosen by the first argument).

usage: ftplib_workload.py {ftplib|ftpkit} OP HOST PORT USER PASSWORD ARGS...
  OP download REMOTE LOCAL     retrbinary into a file (8 KiB blocks, the default)
  OP upload LOCAL REMOTE       storbinary from a file (8 KiB blocks, the default)
  OP small COUNT PREFIX        retrbinary of COUNT small files, one session
Prints the seconds the operation took.
"""
import io
import sys
import time

if sys.argv[1] == "ftpkit":
    from ftpkit import ftplib
else:
    import ftplib

op, host, port, user, password = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
args = sys.argv[7:]

ftp = ftplib.FTP()
ftp.connect(host, port, timeout=60)
ftp.login(user, password)
start = time.perf_counter()
if op == "download":
    with open(args[1], "wb") as f:
        ftp.retrbinary("RETR " + args[0], f.write)
elif op == "upload":
    with open(args[0], "rb") as f:
        ftp.storbinary("STOR " + args[1], f)
elif op == "small":
    total = 0
    for i in range(int(args[0])):
        buf = io.BytesIO()
        ftp.retrbinary("RETR %s%d" % (args[1], i), buf.write)
        total += len(buf.getvalue())
    assert total > 0
else:
    raise SystemExit("unknown op " + op)
elapsed = time.perf_counter() - start
ftp.quit()
print("%.3f" % elapsed)
