#!/usr/bin/env bash
# The wire limit for listing a catalog: a curl loop asking for PAGE_SIZE names a page and
# following the registry's `Link` header; prints one name a line.
#
# Usage: curl_catalog.sh REGISTRY_URL PAGE_SIZE
#
# The names are cut out of the JSON with sed (repository names hold no quotes or commas). One
# curl process per page, which costs a few milliseconds each: with pages of 1,000 that is
# nothing beside the registry's work.
set -euo pipefail

url=${1%/} next="/v2/_catalog?n=$2"
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
while [[ -n $next ]]; do
    curl --silent --show-error --fail -D "$headers" "$url$next" |
        sed -e 's/^.*"repositories":\[//' -e 's/\].*$//' | tr ',' '\n' | tr -d '"' | sed '/^$/d'
    # Link: </v2/_catalog?last=...&n=1000>; rel="next" (distribution's links are relative)
    next=$(tr -d '\r' <"$headers" | sed -n 's/^[Ll]ink: *<\([^>]*\)>.*rel="next".*/\1/p')
done
