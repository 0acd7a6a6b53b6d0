#!/usr/bin/env bash
# Regenerates testdata/grafana/otapub-dashboard.png from a real run:
# builds otapub, starts Prometheus (scraping otapub's /metrics every second),
# drives `otapub serve` against the fake GitHub of githubsrctest with
# simulated Tauri devices while a release is rolled out in stages
# (driver/drive_test.go), then draws the dashboard's own queries with
# render.html and screenshots it with Chromium (shot.mjs).
#
# Needs: go, node/npm, Debian's prometheus and chromium
# (apt-get install -y prometheus chromium). Not part of CI.
#
#   testdata/dashboard-render/run.sh              # a 6-minute run
#   DRIVE_DURATION=2m testdata/dashboard-render/run.sh
#   OTAPUB_SRC=/path/to/checkout testdata/dashboard-render/run.sh   # build otapub from elsewhere
#   OUT=/tmp/dash.png testdata/dashboard-render/run.sh                # write the PNG elsewhere
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${OTAPUB_SRC:-$root}
duration=${DRIVE_DURATION:-6m}
out=${OUT:-$root/testdata/grafana/otapub-dashboard.png}
dashboard=$root/testdata/grafana/otapub-dashboard.json

for tool in go node npm prometheus /usr/bin/chromium; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
prom_pid=
cleanup() {
	if [[ -n $prom_pid ]]; then
		kill "$prom_pid" 2>/dev/null || true
		wait "$prom_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

if [[ ! -d $here/node_modules/uplot || ! -d $here/node_modules/playwright-core ]]; then
	(cd "$here" && npm install --no-audit --no-fund)
fi

echo "building otapub from $src ($(git -C "$src" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
(cd "$src" && go build -o "$work/otapub" ./cmd/otapub)

prom_port=$(free_port)
otapub_addr=127.0.0.1:$(free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: otapub
    static_configs:
      - targets: ['$otapub_addr']
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://127.0.0.1:$prom_port/-/ready" >/dev/null || { cat "$work/prometheus.log" >&2; exit 1; }

echo "driving otapub at $otapub_addr for $duration (Prometheus at 127.0.0.1:$prom_port)"
(cd "$root" && OTAPUB_BIN="$work/otapub" OTAPUB_ADDR="$otapub_addr" DRIVE_DURATION="$duration" \
	DRIVE_WINDOW="$work/window.json" DRIVE_LOG="$work/otapub.log" \
	go test -tags dashboard -count=1 -timeout 0 -run TestDrive -v ./testdata/dashboard-render/driver)
sleep 3 # one more scrape after the last request

start=$(node -p "require('$work/window.json').start")
end=$(node -p "require('$work/window.json').end")
# --scrape is the Grafana data source's "Scrape interval" setting the page
# assumes: 5s makes $__rate_interval 20s, Grafana's own rule, so that rates
# of a few minutes' traffic are not drawn from 4-second windows.
node "$here/shot.mjs" --prometheus "http://127.0.0.1:$prom_port" --start "$start" --end "$end" \
	--dashboard "$dashboard" --out "$out" --scrape "${GRAFANA_SCRAPE_INTERVAL:-5}"
