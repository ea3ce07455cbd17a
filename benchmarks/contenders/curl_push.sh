#!/usr/bin/env bash
# The wire limit for a push: curl sending every blob at once, digests known beforehand.
#
# Usage: curl_push.sh BLOB_DIR REGISTRY_URL REPOSITORY TAG
#
# BLOB_DIR holds the blobs as files, a `blobs` list (one "DIGEST FILE" a line), the image
# manifest as `manifest.json` and its media type in `manifest.type`, all prepared before the
# timing starts (so nothing is read from an archive or hashed here). Each blob gets a POST for
# an upload session and one streamed PUT ...&digest=, every blob in its own curl at once; then
# the manifest PUT. No existence checks, retries or validation: a floor, not a client.
set -euo pipefail

blob_dir=$1 url=${2%/} repository=$3 tag=$4
curl_opts=(--silent --show-error --fail --http1.1)

upload() {
    local digest=$1 file=$2 location
    location=$(curl "${curl_opts[@]}" -X POST -H "Content-Length: 0" -D - -o /dev/null \
        "$url/v2/$repository/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [[ $location == /* ]] && location="$url$location"
    [[ $location == *\?* ]] && separator="&" || separator="?"
    # `Expect:` off: no extra round trip waiting for `100 Continue` before the body.
    curl "${curl_opts[@]}" -o /dev/null -H "Expect:" -H "Content-Type: application/octet-stream" \
        -T "$file" "$location${separator}digest=$digest"
}

pids=()
while read -r digest file; do
    upload "$digest" "$blob_dir/$file" &
    pids+=($!)
done <"$blob_dir/blobs"
for pid in "${pids[@]}"; do
    wait "$pid"
done

curl "${curl_opts[@]}" -o /dev/null -X PUT -H "Content-Type: $(cat "$blob_dir/manifest.type")" \
    --data-binary "@$blob_dir/manifest.json" "$url/v2/$repository/manifests/$tag"
