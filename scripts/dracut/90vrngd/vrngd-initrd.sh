#!/bin/sh
# vrngd launcher inside the initramfs (installed by the 90vrngd dracut module as
# /usr/sbin/vrngd): runs the single-file bundle with the node binary that the
# module copied in. The same unit and hook lines work here and in the real root.
app=/usr/lib/vrngd
# shellcheck disable=SC2086 # VRNGD_NODE_FLAGS is a list of flags
exec "$app/node/bin/node" $VRNGD_NODE_FLAGS "$app/vrngd.js" "$@"
