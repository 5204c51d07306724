#!/bin/sh
# As the official image's entrypoint: redis-server runs as redis, with protected mode off
# (no config file; Compose's network is the boundary), keeping its data in /data.
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    chown redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups \
        redis-server --protected-mode no --bind 0.0.0.0 --dir /data "$@"
fi
exec "$@"
