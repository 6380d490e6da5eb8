#!/usr/bin/env bash
# Node.js 10.24.1 into .cache/node10/ (prints its path): the runtime the el6 package
# ships, the last official line built for glibc 2.12 and kernel 2.6.32 (RHEL 6); it
# needs only GLIBC_2.9 and GLIBCXX_3.4.11.
exec bash "$(dirname "$0")/setup-node.sh" 10.24.1 node10
