#!/bin/sh
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
# Fails when a unit-test file under t/unit/ is not part of the unit-test
# program t/unit/test_core: every t/unit/*.c must be in
# t_unit_test_core_SOURCES (Makefile.am), and the suite it defines
# ("Suite *NAME_suite(void)") must be added to the runner in
# t/unit/test_core.c.  A file left out is never compiled and never run.
#
# Run by "make check", which sets UNIT_SRCDIR (the source tree) and
# UNIT_SOURCES (the program's sources as Makefile.am lists them), and
# opens file descriptor 9 on make's stderr (AM_TESTS_FD_REDIRECT): the
# failures are printed there too, not only into the test's .log.
set -u

if { true >&9; } 2>/dev/null; then
    say() { echo "$*" >&2; echo "$*" >&9; }
else
    say() { echo "$*" >&2; }
fi

srcdir=${UNIT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${UNIT_SOURCES:-}" ]; then
    echo "all-built: UNIT_SOURCES is not set (run through make check)" >&2
    exit 2
fi
status=0
for path in "$srcdir"/t/unit/*.c; do
    f=t/unit/${path##*/}
    case " $(echo $UNIT_SOURCES) " in
        *" $f "*) ;;
        *)
            say "all-built: FAIL: $f is not built into t/unit/test_core:" \
                "add it to t_unit_test_core_SOURCES in Makefile.am"
            status=1
            continue
            ;;
    esac
    for suite in $(sed -n 's/^Suite \*\([A-Za-z0-9_]*\)(void)$/\1/p' "$path"); do
        if ! grep -q "srunner_\(create\|add_suite\)(.*\b$suite()" \
                "$srcdir/t/unit/test_core.c"; then
            say "all-built: FAIL: $f defines $suite() but t/unit/test_core.c" \
                "does not run it (srunner_add_suite)"
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "all-built: every t/unit/*.c is built and its suite runs"
exit $status
