#!/bin/sh
# TEST ONLY: no root device in the e2e guest; without these dracut stops with
# "No or empty root=" before any later hook runs.
root=e2e
rootok=1
export root rootok
