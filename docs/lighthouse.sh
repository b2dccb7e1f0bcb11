#!/bin/sh
# Lighthouse (mobile) on the login and wallet pages of a demo install; prints the four scores per page.
#   sh docs/lighthouse.sh            # needs .venv (make install), node/npm and Debian's chromium
# Serves a fresh demo database from a temporary instance on 127.0.0.1:${PORT:-8810}, signs in as an advisor,
# and runs Lighthouse against both pages with the session cookie. Reports go to ${OUT:-/tmp/pointsapp-lighthouse}.
set -eu
cd "$(dirname "$0")/.."
PORT=${PORT:-8810}
OUT=${OUT:-/tmp/pointsapp-lighthouse}
LIGHTHOUSE=${LIGHTHOUSE:-"npx --yes lighthouse@12"}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
export POINTSAPP_INSTANCE=$(mktemp -d)
export SECRET_KEY=lighthouse-run FLASK_APP=pointsapp
mkdir -p "$OUT"
.venv/bin/flask db upgrade >/dev/null 2>&1
.venv/bin/flask seed-demo >/dev/null
.venv/bin/gunicorn --bind 127.0.0.1:$PORT --workers 2 --no-control-socket 'pointsapp:create_app()' >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$POINTSAPP_INSTANCE"' EXIT INT TERM
sleep 3
jar="$OUT/cookies.txt"
# Sessions are bound to the browser's user agent: sign in with the one Lighthouse will send.
agent="Mozilla/5.0 (Linux; Android 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36 pointsapp-lighthouse"
token=$(curl -s -A "$agent" -c "$jar" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -n 1)
curl -s -A "$agent" -b "$jar" -c "$jar" -o /dev/null --data-urlencode "email=chen.jing@demo.bank" --data-urlencode "password=demo-points-2026" \
  --data-urlencode "csrf_token=$token" "http://127.0.0.1:$PORT/login"
session=$(awk '$6 == "session" {print $7}' "$jar")
flags="--quiet --form-factor=mobile --chrome-flags=--headless=new --chrome-flags=--no-sandbox --output=json"
$LIGHTHOUSE "http://127.0.0.1:$PORT/login" $flags --emulated-user-agent="$agent" --output-path="$OUT/login.json"
$LIGHTHOUSE "http://127.0.0.1:$PORT/wallet" $flags --emulated-user-agent="$agent" --output-path="$OUT/wallet.json" \
  --extra-headers="{\"Cookie\": \"session=$session\"}"
for page in login wallet; do
  node -e 'const r = require(process.argv[1]); const c = r.categories;
    console.log(process.argv[2].padEnd(8), Object.keys(c).map(k => `${k} ${Math.round(c[k].score * 100)}`).join("  "), " ", r.finalDisplayedUrl)' \
    "$OUT/$page.json" "$page"
done
