#!/usr/bin/env bash
# Runs the ftplib vs ftpkit.ftplib benchmark against a private vsftpd whose
# files live on tmpfs (so the disk is not measured), on its own ports beside
# the interop servers, and stops it afterwards. Needs root and the interop
# servers' setup (scripts/interop-servers.sh install: the user and PAM
# service), and the package built in release mode in the active Python:
#   (cd python && maturin develop --release) && bash bench/python/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${BENCH_PY_DIR:-/dev/shm/ftpkit-pybench}"
PORT="${BENCH_PY_PORT:-2191}"
mkdir -p "$DIR/home" "$DIR/empty"
chown ftpkit:ftpkit "$DIR/home"
cat > "$DIR/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=$PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$DIR/home
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=$DIR/empty
pam_service_name=ftpkit-interop
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=40900
pasv_max_port=40949
xferlog_enable=NO
use_localtime=NO
CONF
VSFTPD_BIN="${VSFTPD_BIN:-$(command -v vsftpd || echo "${FTPKIT_INTEROP_PREFIX:-/opt/ftpkit-interop}/root/usr/sbin/vsftpd")}"
"$VSFTPD_BIN" "$DIR/vsftpd.conf" &
VSFTPD=$!
trap 'kill "$VSFTPD" 2>/dev/null || true; rm -rf "$DIR"' EXIT
sleep 1
BENCH_PY_SERVER="127.0.0.1:$PORT" BENCH_PY_HOME="$DIR/home" python3 bench/python/run.py
