#!/bin/sh
# scaling.sh: issue 14's multi-core measurement in one call, for a machine
# with 16 CPUs or more (the workplace's `device` lends one to some sessions).
#
# Build here, statically (bin/ is git-ignored), then carry bin/ there:
#   (cd bench && CGO_ENABLED=0 go build -o ../bin/bench .)
# Run there, from the repository root:
#   sh bench/scaling.sh            # results in $OUT (or /tmp/scaling)
#
# The harness pins the load generator to CPUs 0-7 and the servers to 8-15
# (-split 8) and checks the 8-core goals in its Targets table. About 4
# minutes; nothing here needs the network or Go.
set -eu
out=${OUT:-/tmp/scaling}
mkdir -p "$out"
nproc
./bin/bench -split "${SPLIT:-8}" -rounds 3 -duration 2s -warmup 500ms \
	-scenario keepalive/c256,pipelined/p16-c64,http10-keepalive/c64,mixed/c64,shortlived/c32 \
	-out "$out" -readme '' 2>&1 | tee "$out/run.txt"
