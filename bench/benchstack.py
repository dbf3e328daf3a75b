# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""A stack of its own for a benchmark: started in a fresh folder under /tmp,
stopped and removed however the benchmark ends."""

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))

import cacertstack  # noqa: E402


@contextmanager
def own_stack(prefix, builddir, extra_conf=()):
    """with own_stack("pg", args.builddir) as stack: ... (cheap Argon2id)"""
    d = tempfile.mkdtemp(prefix=f"cacert-bench-{prefix}-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(builddir), port=0,
                              argon2="1 8192 1", extra_conf=list(extra_conf))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)
