#!/usr/bin/env bash
# Node.js 16.20.2 into .cache/node16/ (prints its path): the runtime the el7 package
# ships and vrngd's floor for its own node, the newest official line for glibc 2.17.
exec bash "$(dirname "$0")/setup-node.sh" 16.20.2 node16
