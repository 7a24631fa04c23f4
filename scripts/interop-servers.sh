#!/usr/bin/env bash
# Installs and runs the real FTP servers of ftpkit's interop suite on loopback:
# vsftpd, proftpd and pure-ftpd from Debian's packages, and pyftpdlib from PyPI,
# each plain and with explicit TLS, plus implicit TLS where the server offers it.
#
#   scripts/interop-servers.sh install   # packages (idempotent; needs root)
#   scripts/interop-servers.sh start     # configs, test user, servers, servers.env
#   scripts/interop-servers.sh status    # which ports answer (non-zero if one is down)
#   scripts/interop-servers.sh stop
#
# The three Debian packages conflict with each other (each provides
# ftp-server), and installing one would start it as a system service on port
# 21. So none is installed: each .deb is unpacked with `dpkg -x` under
# $FTPKIT_INTEROP_PREFIX and run from there with its own configuration; the
# shared libraries they link against are installed from Debian as usual.
#
# Server notes for the test suite:
# - vsftpd: local user through PAM (a system user `ftpkit` is created), chroot
#   to its home; no MLSD; the TLS instance sets require_ssl_reuse=YES and
#   strict_ssl_read_eof=YES (uploads must end with close_notify). Over
#   TLS 1.3 (ftpkit's default) every scenario passes, uploads of 1 and 16 MiB
#   and require_ssl_reuse included: the "426 Failure reading network stream"
#   once seen on uploads did not recur once uploads ended with close_notify.
# - proftpd: users from an AuthUserFile; mod_tls loaded from the unpacked
#   package; TLS session reuse on data connections is required by default.
#   Over TLS 1.3 it refuses every other data connection with "425 Unable to
#   build data connection: Operation not permitted" (the client has no
#   session ticket left to resume with; curl too). ftpkit's download/upload
#   then reconnect once with TLS 1.2 and keep it; the streaming scenarios
#   run with TLS 1.2 (TlsVersion::Tls12, --tls-max 1.2).
# - Certificate: one self-signed `openssl req -x509` certificate (CA:TRUE,
#   names localhost and 127.0.0.1), as the servers' guides make it; ca.pem
#   is a copy, the file clients trust (--cacert).
# - pure-ftpd: virtual users in a PureDB file made by pure-pw; no implicit TLS.
# - pyftpdlib: DummyAuthorizer; TLS_FTPHandler for TLS; no implicit TLS. pyftpd.py fixes
#   pyftpdlib's ActiveDTP, whose stale close() stalled another session when two
#   clients used active mode at once (scripts/pyftpd_selftest.py shows it).
set -euo pipefail

PREFIX="${FTPKIT_INTEROP_PREFIX:-/opt/ftpkit-interop}"
ROOT="$PREFIX/root"
DIR="${FTPKIT_INTEROP_DIR:-/tmp/ftpkit-interop}"
USER_NAME=ftpkit
USER_PASS=ftpkit-pass
# Added to every port (control and passive), to run a second set of servers
# beside the first: FTPKIT_INTEROP_DIR=/tmp/other FTPKIT_INTEROP_PORT_OFFSET=1000.
OFFSET="${FTPKIT_INTEROP_PORT_OFFSET:-0}"
port() { echo $(($1 + OFFSET)); }
HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGES=(vsftpd proftpd-core proftpd-mod-crypto pure-ftpd)
LIBS=(libwrap0 libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libsodium23
      libcap2 libssl3 libidn2-0 libacl1 libpam0g libpam-modules openssl curl)

log() { printf '%s\n' "interop: $*" >&2; }

install() {
    if [ ! -x "$ROOT/usr/sbin/vsftpd" ] || [ ! -x "$ROOT/usr/sbin/proftpd" ] || [ ! -x "$ROOT/usr/sbin/pure-ftpd" ] \
        || [ ! -f "$ROOT/usr/lib/proftpd/mod_tls.so" ]; then
        log "installing libraries and unpacking ${PACKAGES[*]} into $ROOT"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${LIBS[@]}" >/dev/null
        local debs
        debs="$(mktemp -d)"
        (cd "$debs" && chmod 777 . && apt-get download -qq "${PACKAGES[@]}")
        mkdir -p "$ROOT"
        for deb in "$debs"/*.deb; do dpkg -x "$deb" "$ROOT"; done
        rm -rf "$debs"
    fi
    if ! python3 -c 'import pyftpdlib, OpenSSL' 2>/dev/null; then
        log "installing pyftpdlib"
        python3 -m pip install -q --disable-pip-version-check pyftpdlib pyopenssl
    fi
    local bin
    for bin in vsftpd proftpd pure-ftpd; do
        if ldd "$ROOT/usr/sbin/$bin" | grep -q 'not found'; then
            log "$bin is missing libraries:"; ldd "$ROOT/usr/sbin/$bin" | grep 'not found' >&2; exit 1
        fi
    done
    log "installed"
}

# --- configuration ---------------------------------------------------------

make_user() {
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        useradd --no-create-home --home-dir "$DIR/vsftpd/home" --shell /bin/sh "$USER_NAME"
    fi
    echo "$USER_NAME:$USER_PASS" | chpasswd
    # vsftpd authenticates through PAM with this service name.
    cat > /etc/pam.d/ftpkit-interop <<PAM
auth     required pam_unix.so
account  required pam_unix.so
session  required pam_permit.so
PAM
}

make_home() { # name
    mkdir -p "$DIR/$1/home"
    chown "$USER_NAME:$USER_NAME" "$DIR/$1/home"
    chmod 755 "$DIR/$1/home"
}

# The servers' certificate is made as the vsftpd and proftpd guides say: one
# self-signed `openssl req -x509` certificate, which OpenSSL marks CA:TRUE.
# Clients trust that very file (ca.pem, a copy of server.pem): ftpkit with
# --cacert / TlsConfigBuilder::add_ca_pem_file, curl with --cacert.
make_certs() {
    if [ -f "$DIR/server.pem" ]; then return; fi
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$DIR/server.key" -out "$DIR/server.crt" 2>/dev/null
    cp "$DIR/server.crt" "$DIR/server.pem"
    cp "$DIR/server.crt" "$DIR/ca.pem"
    chmod 600 "$DIR/server.key"
}

vsftpd_conf() { # name port pasv_from pasv_to tls(none|explicit|implicit)
    local name=$1 port=$2 from=$3 to=$4 tls=$5
    make_home "$name"
    mkdir -p "$DIR/$name/empty"
    chmod 755 "$DIR/$name/empty"
    cat > "$DIR/$name/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=$port
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$DIR/$name/home
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=$DIR/$name/empty
pam_service_name=ftpkit-interop
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$from
pasv_max_port=$to
port_enable=YES
connect_from_port_20=NO
utf8_filesystem=YES
xferlog_enable=YES
vsftpd_log_file=$DIR/$name/vsftpd.log
log_ftp_protocol=YES
use_localtime=NO
CONF
    if [ "$tls" != none ]; then
        cat >> "$DIR/$name/vsftpd.conf" <<CONF
ssl_enable=YES
rsa_cert_file=$DIR/server.pem
rsa_private_key_file=$DIR/server.key
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
strict_ssl_read_eof=YES
ssl_ciphers=HIGH
CONF
        if [ "$tls" = implicit ]; then echo "implicit_ssl=YES" >> "$DIR/$name/vsftpd.conf"; fi
    fi
}

proftpd_conf() { # name port pasv_from pasv_to tls(none|explicit|implicit) [reuse-optional]
    local name=$1 port=$2 from=$3 to=$4 tls=$5 reuse=${6:-}
    make_home "$name"
    local uid gid
    uid=$(id -u "$USER_NAME"); gid=$(id -g "$USER_NAME")
    echo "$USER_NAME:$(openssl passwd -6 "$USER_PASS"):$uid:$gid::$DIR/$name/home:/bin/sh" > "$DIR/$name/passwd"
    echo "$USER_NAME:x:$gid:" > "$DIR/$name/group"
    chmod 600 "$DIR/$name/passwd"
    cat > "$DIR/$name/proftpd.conf" <<CONF
ServerName "ftpkit interop proftpd"
ServerType standalone
DefaultServer on
Port $port
DefaultAddress 127.0.0.1
SocketBindTight on
User nobody
Group nogroup
PidFile $DIR/$name/proftpd.pid
ScoreboardFile $DIR/$name/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
SystemLog $DIR/$name/proftpd.log
TransferLog $DIR/$name/xfer.log
AuthOrder mod_auth_file.c
AuthUserFile $DIR/$name/passwd
AuthGroupFile $DIR/$name/group
RequireValidShell off
DefaultRoot ~
PassivePorts $from $to
AllowOverwrite on
AllowStoreRestart on
AllowRetrieveRestart on
ModulePath $ROOT/usr/lib/proftpd
# Checksums (HASH, XSHA256, XMD5, XCRC) for ftpkit's verified transfers.
LoadModule mod_digest.c
<Directory />
  AllowOverwrite on
</Directory>
CONF
    if [ "$tls" != none ]; then
        local implicit=""
        if [ "$tls" = implicit ]; then implicit=" UseImplicitSSL"; fi
        if [ "$reuse" = reuse-optional ]; then implicit="$implicit NoSessionReuseRequired"; fi
        cat >> "$DIR/$name/proftpd.conf" <<CONF
LoadModule mod_tls.c
<IfModule mod_tls.c>
  TLSEngine on
  TLSRequired on
  TLSLog $DIR/$name/tls.log
  TLSProtocol TLSv1.2 TLSv1.3
  TLSRSACertificateFile $DIR/server.crt
  TLSRSACertificateKeyFile $DIR/server.key
  TLSVerifyClient off
  TLSOptions EnableDiags$implicit
</IfModule>
CONF
    fi
}

pureftpd_db() { # name
    local name=$1
    make_home "$name"
    rm -f "$DIR/$name/pureftpd.passwd" "$DIR/$name/pureftpd.pdb"
    printf '%s\n%s\n' "$USER_PASS" "$USER_PASS" | "$ROOT/usr/bin/pure-pw" useradd "$USER_NAME" \
        -u "$USER_NAME" -d "$DIR/$name/home" -f "$DIR/$name/pureftpd.passwd" >/dev/null
    # pure-pw hashes with argon2id at 511 passes over 8 MiB: over a second per login on an idle
    # 2-core machine and tens of seconds on a busy one, past the tests' idle timeout. A test
    # account needs no such cost: store a SHA-512 crypt hash instead (crypt(3) reads both).
    local hash
    hash=$(openssl passwd -6 "$USER_PASS")
    awk -F: -v OFS=: -v h="$hash" '{ $2 = h; print }' "$DIR/$name/pureftpd.passwd" > "$DIR/$name/pureftpd.passwd.new"
    mv "$DIR/$name/pureftpd.passwd.new" "$DIR/$name/pureftpd.passwd"
    "$ROOT/usr/bin/pure-pw" mkdb "$DIR/$name/pureftpd.pdb" -f "$DIR/$name/pureftpd.passwd" >/dev/null
}

# --- start / stop ------------------------------------------------------------

spawn() { # name command... (inherits the caller's environment)
    local name=$1; shift
    mkdir -p "$DIR/$name"
    setsid nohup env "$@" > "$DIR/$name/stdout.log" 2>&1 < /dev/null &
    echo $! > "$DIR/$name/pid"
}

PLAIN="vsftpd=127.0.0.1:$(port 2121) proftpd=127.0.0.1:$(port 2122) pureftpd=127.0.0.1:$(port 2123) pyftpdlib=127.0.0.1:$(port 2124)"
TLS="vsftpd=127.0.0.1:$(port 2131) proftpd=127.0.0.1:$(port 2132) pureftpd=127.0.0.1:$(port 2133) pyftpdlib=127.0.0.1:$(port 2134)"
BENCH="proftpd-bench=127.0.0.1:$(port 2135)"
IMPLICIT="vsftpd=127.0.0.1:$(port 2141) proftpd=127.0.0.1:$(port 2142)"

start() {
    stop >/dev/null 2>&1 || true
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    make_user
    make_certs
    export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

    vsftpd_conf vsftpd $(port 2121) $(port 40100) $(port 40149) none
    vsftpd_conf vsftpd-tls $(port 2131) $(port 40150) $(port 40199) explicit
    vsftpd_conf vsftpd-implicit $(port 2141) $(port 40600) $(port 40649) implicit
    for n in vsftpd vsftpd-tls vsftpd-implicit; do spawn "$n" "$ROOT/usr/sbin/vsftpd" "$DIR/$n/vsftpd.conf"; done

    proftpd_conf proftpd $(port 2122) $(port 40200) $(port 40249) none
    proftpd_conf proftpd-tls $(port 2132) $(port 40250) $(port 40299) explicit
    proftpd_conf proftpd-implicit $(port 2142) $(port 40650) $(port 40699) implicit
    # For the benchmark: TLS without required session reuse, which Python's
    # ftplib cannot do.
    proftpd_conf proftpd-bench $(port 2135) $(port 40700) $(port 40749) explicit reuse-optional
    for n in proftpd proftpd-tls proftpd-implicit proftpd-bench; do spawn "$n" "$ROOT/usr/sbin/proftpd" -n -q -c "$DIR/$n/proftpd.conf"; done

    pureftpd_db pureftpd
    pureftpd_db pureftpd-tls
    spawn pureftpd "$ROOT/usr/sbin/pure-ftpd" -S "127.0.0.1,$(port 2123)" -l "puredb:$DIR/pureftpd/pureftpd.pdb" \
        -E -A -H -4 -p "$(port 40300):$(port 40349)" -P 127.0.0.1 -O "clf:$DIR/pureftpd/xfer.log"
    spawn pureftpd-tls "$ROOT/usr/sbin/pure-ftpd" -S "127.0.0.1,$(port 2133)" -l "puredb:$DIR/pureftpd-tls/pureftpd.pdb" \
        -E -A -H -4 -p "$(port 40350):$(port 40399)" -P 127.0.0.1 -Y 2 -2 "$DIR/server.pem,$DIR/server.key" -O "clf:$DIR/pureftpd-tls/xfer.log"

    make_home pyftpdlib
    make_home pyftpdlib-tls
    chmod 777 "$DIR/pyftpdlib/home" "$DIR/pyftpdlib-tls/home"
    spawn pyftpdlib python3 "$HERE/pyftpd.py" $(port 2124) "$DIR/pyftpdlib/home" "$USER_NAME" "$USER_PASS" $(port 40400) $(port 40449)
    spawn pyftpdlib-tls python3 "$HERE/pyftpd.py" $(port 2134) "$DIR/pyftpdlib-tls/home" "$USER_NAME" "$USER_PASS" $(port 40450) $(port 40499) \
        "$DIR/server.pem" "$DIR/server.key"

    cat > "$DIR/servers.env" <<ENV
FTPKIT_INTEROP_SERVERS="$PLAIN"
FTPKIT_INTEROP_TLS_SERVERS="$TLS"
FTPKIT_INTEROP_IMPLICIT_SERVERS="$IMPLICIT"
FTPKIT_BENCH_TLS_SERVER="$BENCH"
FTPKIT_INTEROP_USER="$USER_NAME"
FTPKIT_INTEROP_PASS="$USER_PASS"
FTPKIT_INTEROP_CA="$DIR/ca.pem"
ENV
    wait_up
    log "started; addresses in $DIR/servers.env"
}

# Waits until every server answers with a 220 greeting (up to 15 s).
wait_up() {
    local deadline=$((SECONDS + 15)) pair
    for pair in $PLAIN $TLS $BENCH; do
        until greets "${pair#*=}"; do
            if [ $SECONDS -ge $deadline ]; then log "${pair%%=*} at ${pair#*=} did not start"; return 1; fi
            sleep 0.2
        done
    done
    for pair in $IMPLICIT; do
        until answers "${pair#*=}"; do
            if [ $SECONDS -ge $deadline ]; then log "${pair%%=*} (implicit) at ${pair#*=} did not start"; return 1; fi
            sleep 0.2
        done
    done
}

greets() { # host:port
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
with socket.create_connection((host, int(port)), timeout=2) as s:
    s.settimeout(2)
    sys.exit(0 if s.recv(64).startswith(b"220") else 1)
PY
}

answers() { # host:port (implicit TLS: the TCP port accepts)
    python3 -c 'import socket,sys; h,p=sys.argv[1].rsplit(":",1); socket.create_connection((h,int(p)),timeout=2).close()' "$1" 2>/dev/null
}

stop() {
    [ -d "$DIR" ] || return 0
    local pidfile pid pids=()
    for pidfile in "$DIR"/*/pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        pids+=("$pid")
        rm -f "$pidfile"
    done
    # Wait for the ports to be released: a server still shutting down would
    # make the next start fail to bind.
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do
            if [ $SECONDS -ge $deadline ]; then kill -9 -- -"$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true; break; fi
            sleep 0.1
        done
    done
    log "stopped"
}

status() {
    local bad=0 pair
    for pair in $PLAIN $TLS $BENCH; do
        if greets "${pair#*=}"; then echo "up    ${pair%%=*} ${pair#*=}"; else echo "DOWN  ${pair%%=*} ${pair#*=}"; bad=1; fi
    done
    for pair in $IMPLICIT; do
        if answers "${pair#*=}"; then echo "up    ${pair%%=*} ${pair#*=} (implicit TLS)"; else echo "DOWN  ${pair%%=*} ${pair#*=} (implicit TLS)"; bad=1; fi
    done
    return $bad
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
