#!/usr/bin/env bash
# Start moto's S3 + Secrets Manager server for the processor tests and benchmark, if it is not
# already answering. Idempotent: the venv is cached and reused, a running server is left alone.
# Prints the endpoint URL on stdout (everything else goes to stderr).
set -euo pipefail

port="${MOTO_PORT:-5000}"
endpoint="http://127.0.0.1:${port}"
cache_dir="${TAP_CACHE_DIR:-$HOME/.cache/tap-lint}"
venv="${cache_dir}/moto-venv"
log="${cache_dir}/moto-${port}.log"

answers() {
    python3 - "$endpoint" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2)
PY
}

if answers; then
    echo "moto already answering at ${endpoint}" >&2
    echo "$endpoint"
    exit 0
fi

mkdir -p "$cache_dir"
if ! "${venv}/bin/python" -c 'import moto.server, waitress' 2>/dev/null; then
    echo "installing moto[server] and waitress into ${venv}" >&2
    [ -x "${venv}/bin/python" ] || python3 -m venv "$venv"
    "${venv}/bin/pip" install --quiet --disable-pip-version-check 'moto[server]' waitress >&2
fi

# moto's own app under waitress (keep-alive), not `moto_server`: see moto-server.py.
echo "starting moto on ${endpoint} (log: ${log})" >&2
nohup "${venv}/bin/python" "$(dirname "$0")/moto-server.py" "$port" >"$log" 2>&1 </dev/null &

for _ in $(seq 1 120); do
    if answers; then
        echo "$endpoint"
        exit 0
    fi
    sleep 0.5
done
echo "moto did not answer at ${endpoint} within 60 s; see ${log}" >&2
tail -n 20 "$log" >&2 || true
exit 1
