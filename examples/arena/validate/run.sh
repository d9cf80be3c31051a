#!/usr/bin/env bash
# run.sh runs HttpArena's own, unmodified scripts/validate.sh against
# examples/arena, without Docker:
#
#   examples/arena/validate/run.sh            # from anywhere in the kahttp checkout
#
# It extracts HttpArena (git archive of $HTTPARENA_GIT at $HTTPARENA_REV:
# by default the mirror at /work/.mirror/MDA2AV+HttpArena/repo, HEAD; any
# clone of https://github.com/MDA2AV/HttpArena works) into a scratch
# folder, adds frameworks/kahttp/meta.json (meta.json here: the profiles
# kahttp subscribes to), puts bin/docker first on PATH (a shim: `docker
# build` builds the example, `docker run` starts it on this host with
# -data pointing at the extracted data/ folder and -cert/-key at certs/,
# `docker rm -f` stops it with SIGTERM), and runs
# `scripts/validate.sh kahttp` from the extracted root. Then it prints the
# PASS/FAIL counts per profile and the server's exit status, and exits
# with validate.sh's status. KEEP=1 keeps the scratch folder.
#
# Needs: go, git, curl, python3 (validate.sh's checks and
# scripts/validate-ws.py use only its standard library), GNU grep (-P).
# Ports 8080 and 8081 must be free: validate.sh hard-codes them.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=${HTTPARENA_GIT:-/work/.mirror/MDA2AV+HttpArena/repo}
rev=${HTTPARENA_REV:-HEAD}

for tool in go git curl python3; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 2; }
done
for port in 8080 8081; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "run.sh: port $port is in use; validate.sh needs it" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kahttp-arena.XXXXXX")
arena=$tmp/HttpArena
export ARENA_STATE=$tmp/state KAHTTP_ROOT=$root
vpid=""
cleanup() {
    # An interrupted run: end validate.sh (its EXIT trap stops the server).
    if [ -n "$vpid" ]; then
        kill -TERM -- "-$vpid" 2>/dev/null
        wait "$vpid" 2>/dev/null
    fi
    # validate.sh stops the server itself (its EXIT trap: docker rm -f);
    # this catches an interrupted run.
    PATH="$here/bin:$PATH" docker rm -f httparena-validate-kahttp >/dev/null 2>&1 || true
    if [ "${KEEP:-}" = 1 ]; then
        echo "run.sh: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$arena" "$ARENA_STATE"
# A partial clone or mirror may lack some large blobs (data/benchmark.db,
# the upload-*.raw request files): validate.sh uses none of them, so they
# are left out rather than fail the archive.
tree=$(git -C "$src" ls-tree -r "$rev") || { echo "run.sh: no HttpArena at $src ($rev)" >&2; exit 2; }
missing=$(awk '$2 == "blob" {print $3}' <<<"$tree" | git -C "$src" cat-file --batch-check | awk '$2 == "missing" {print $1}')
exclude=()
for sha in $missing; do
    path=$(grep -F "$sha" <<<"$tree" | head -1 | cut -f2-)
    exclude+=(":(exclude)$path")
    echo "run.sh: $path is not in $src: left out"
done
# (git 2.39 still says "invalid object" for an excluded missing blob: its
# errors are shown only if the archive fails.)
if ! git -C "$src" archive "$rev" -- . "${exclude[@]}" 2>"$tmp/archive.err" | tar -x -C "$arena"; then
    cat "$tmp/archive.err" >&2
    echo "run.sh: cannot extract HttpArena from $src ($rev)" >&2
    exit 2
fi
echo "run.sh: HttpArena $(git -C "$src" rev-parse --short "$rev") extracted to $arena"
mkdir -p "$arena/frameworks/kahttp"
cp "$here/meta.json" "$arena/frameworks/kahttp/meta.json"

# validate.sh's output goes to a file, followed with tail: not through a
# pipe, which its watchdog's `sleep 300` (left running when validate.sh
# ends) would hold open for five minutes. The job has a process group of
# its own (set -m), ended after validate.sh, which takes that sleep with it.
log=$tmp/validate.log
: >"$log"
set -m
(cd "$arena" && PATH="$here/bin:$PATH" exec bash scripts/validate.sh kahttp) >"$log" 2>&1 </dev/null &
vpid=$!
set +m
tail -n +1 -f --pid="$vpid" "$log" &
tpid=$!
wait "$vpid"
status=$?
wait "$tpid"
kill -TERM -- "-$vpid" 2>/dev/null # the watchdog's sleep
vpid=""

echo
echo "=== run.sh: PASS/FAIL per profile ==="
awk '
    /^\[test\] baseline/                     { p = "baseline (+ limited-conn)" }
    /^\[test\] pipelined/                    { p = "pipelined" }
    /^\[test\] json endpoint/                { p = "json" }
    /^\[test\] json-comp/                    { p = "json-comp" }
    /^\[test\] json-tls/                     { p = "json-tls" }
    /^\[test\] upload/                       { p = "upload" }
    /^\[test\] static endpoint/              { p = "static" }
    /^\[test\] (echo-ws|WebSocket|post-validation)/ { p = "echo-ws" }
    p != "" && !(p in seen)                  { seen[p] = 1; order[++n] = p }
    /^  PASS/ && p != ""                     { pass[p]++ }
    /^  FAIL/ && p != ""                     { fail[p]++ }
    /^  SKIP/ && p != ""                     { skip[p]++ }
    END {
        for (i = 1; i <= n; i++) {
            q = order[i]
            printf "  %-26s %2d PASS  %2d FAIL%s\n", q, pass[q], fail[q], skip[q] ? "  " skip[q] " SKIP" : ""
        }
    }' "$log"
grep '^=== Results' "$log" || echo "  (validate.sh printed no summary)"
if [ -s "$ARENA_STATE/exits" ]; then
    echo "server exit status after SIGTERM: $(tr '\n' ' ' <"$ARENA_STATE/exits")"
fi
for l in "$ARENA_STATE"/containers/*/log; do
    [ -f "$l" ] && { echo "--- server log ($l)"; cat "$l"; }
done
echo "validate.sh exit status: $status"
exit "$status"
