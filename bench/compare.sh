#!/bin/sh
# compare.sh REV [bench flags]: kahttp at git revision REV against the
# working tree, in one run of the harness: "before" and "after" servers
# interleaved in every round, so a change is measured against the code it
# replaces on the same machine at the same moment.
#
#   sh bench/compare.sh HEAD~3 -scenario keepalive/c64,pipelined/p16-c64 -rounds 5
#
# The old tree is copied out of git with its module renamed
# (github.com/kahttp/kbefore), and the harness gets before-inline and
# before-pool: servers_kahttp.go built on it. That needs the API the bench
# servers use to be the same at REV. Prints the per-round ratios of server
# CPU per request (after ÷ before; python3) and leaves results.md in the
# directory it names. Needs git, go, sed; nothing is changed in the clone.
set -eu
[ $# -ge 1 ] || { echo "usage: sh bench/compare.sh REV [bench flags]" >&2; exit 2; }
rev=$1
shift
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
mkdir "$tmp/old"
git -C "$root" archive "$rev" | tar -x -C "$tmp/old"
rm -rf "$tmp/old/bench"
grep -rl 'github.com/kahttp/kahttp' "$tmp/old" --include='*.go' --include=go.mod |
	xargs sed -i 's#github.com/kahttp/kahttp#github.com/kahttp/kbefore#g'

cp -r "$root/bench" "$tmp/bench"
cd "$tmp/bench"
rm -rf results
go mod edit -replace=github.com/kahttp/kahttp="$root" \
	-require=github.com/kahttp/kbefore@v0.0.0 -replace=github.com/kahttp/kbefore="$tmp/old"
sed -e 's#"github.com/kahttp/kahttp"#kahttp "github.com/kahttp/kbefore"#' \
	-e 's#"github.com/kahttp/kahttp/nethttp"#"github.com/kahttp/kbefore/nethttp"#' \
	-e 's/"kahttp-inline"/"before-inline"/' -e 's/"kahttp-pool"/"before-pool"/' \
	-e 's/Order: *10,/Order: 11,/' -e 's/Order: *20,/Order: 21,/' \
	servers_kahttp.go >servers_before.go
for f in $(sed -n 's/^func \([A-Za-z0-9_]*\)(.*/\1/p' servers_kahttp.go); do
	[ "$f" = init ] || sed -i "s/\b$f\b/${f}Before/g" servers_before.go
done
go build -o "$tmp/bench-compare" .

servers=kahttp-inline,before-inline,kahttp-pool,before-pool,nethttp,fasthttp,gnet-floor
"$tmp/bench-compare" -servers "$servers" -out "$tmp/out" -readme '' "$@"

python3 - "$tmp/out/results.json" <<'EOF'
import json, statistics, sys
run = json.load(open(sys.argv[1]))
pairs = [("kahttp-inline", "before-inline"), ("kahttp-pool", "before-pool")]
print("\nserver CPU per request, after ÷ before (median of per-round ratios):")
for c in run["cases"]:
    for a, b in pairs:
        ra, rb = c["rounds"].get(a, []), c["rounds"].get(b, [])
        rs = [x["cpu_us_per_req"] / y["cpu_us_per_req"] for x, y in zip(ra, rb)
              if x.get("cpu_us_per_req") and y.get("cpu_us_per_req")]
        if rs:
            print(f"  {c['name']:22s} {a:14s} {statistics.median(rs):.2f}×  (rounds: {' '.join(f'{r:.2f}' for r in rs)})")
EOF
echo "report: $tmp/out/results.md"
