#!/bin/sh
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
# Replays the fuzz corpus through the targets built without libFuzzer
# (fuzz/replay_form, fuzz/replay_tmpl, fuzz/replay_wire).  Run by "make
# check", which sets
# FUZZ_BUILDDIR (where the replay programs are) and FUZZ_CORPUS
# (fuzz/corpus in the source tree).  Fails if any input crashes, trips a
# sanitizer or an assertion, or if a corpus directory is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
builddir=${FUZZ_BUILDDIR:-$here}
corpus=${FUZZ_CORPUS:-$here/corpus}
status=0

# sanitizer reports must fail the test
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

for target in form tmpl wire csr multipart ocsp openpgp domain whois wot jose catalog; do
    prog=$builddir/replay_$target
    if [ ! -x "$prog" ]; then
        echo "replay-corpus: $prog not built" >&2
        status=1
        continue
    fi
    if [ ! -d "$corpus/$target" ]; then
        echo "replay-corpus: no corpus at $corpus/$target" >&2
        status=1
        continue
    fi
    if ! "$prog" "$corpus/$target"; then
        echo "replay-corpus: FAIL replay_$target" >&2
        status=1
    fi
done
exit $status
