#!/usr/bin/env bash
# bench/stat: `acre slice stat -j` over 1,000 accounted slices and the
# supervisor's idle CPU meanwhile; bench/density.sh measures both (and RSS).
exec "$(dirname "$0")/density.sh" "$@"
