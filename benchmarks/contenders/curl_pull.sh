#!/usr/bin/env bash
# The wire limit for a pull into one file: curl fetching every blob at once, each written
# straight into its place in the archive by dd, then hashed by sha256sum.
#
# Usage: curl_pull.sh PLAN_DIR REGISTRY_URL REPOSITORY DEST
#
# PLAN_DIR describes the archive, prepared from the image manifest before the timing starts
# (digests known, as for curl_push.sh): `size` (the file's size), `pieces` (one "OFFSET FILE" a
# line: the tar headers, oci-layout, index.json and the manifest, as small files) and `blobs`
# (one "DIGEST OFFSET SIZE" a line). Each blob is hashed by reading it back from the page cache:
# a second pass over memory, the price of keeping curl, dd and sha256sum separate. No retries.
set -euo pipefail

plan=$1 url=${2%/} repository=$3 dest=$4

truncate -s "$(cat "$plan/size")" "$dest"
while read -r offset file; do
    dd if="$plan/$file" of="$dest" bs=64K seek="$offset" oflag=seek_bytes conv=notrunc status=none
done <"$plan/pieces"

fetch() {
    local digest=$1 offset=$2 size=$3 sum
    curl --silent --show-error --fail "$url/v2/$repository/blobs/$digest" |
        dd of="$dest" bs=1M seek="$offset" oflag=seek_bytes conv=notrunc iflag=fullblock status=none
    sum=$(dd if="$dest" bs=1M skip="$offset" count="$size" iflag=skip_bytes,count_bytes status=none |
        sha256sum)
    if [[ "sha256:${sum%% *}" != "$digest" ]]; then
        echo "$digest: the bytes received hash to sha256:${sum%% *}" >&2
        return 1
    fi
}

pids=()
while read -r digest offset size; do
    fetch "$digest" "$offset" "$size" &
    pids+=($!)
done <"$plan/blobs"
for pid in "${pids[@]}"; do
    wait "$pid"
done
