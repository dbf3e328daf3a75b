# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Every source file carries the licence's notice (LICENSE: Apache-2.0)."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTICE = "SPDX-License-Identifier: Apache-2.0"
SOURCE = (".c", ".h", ".py", ".sh", ".sql", ".lua", ".css", ".am", ".ac", ".conf", ".supp",
          ".js", ".mjs")


def sources():
    r = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("not a git checkout: the list of source files is git's")
    files = r.stdout.split()
    for f in files:
        if f.startswith(("fuzz/corpus/", "t/unit/data/")):
            continue
        if f.startswith("debian/") and f != "debian/rules":
            continue
        path = os.path.join(REPO, f)
        if f.endswith(SOURCE) or f == "debian/rules":
            yield f, path
        elif "." not in os.path.basename(f) and os.path.isfile(path):
            with open(path, "rb") as fh:
                if fh.read(2) == b"#!":
                    yield f, path


def test_every_source_file_has_the_notice():
    missing = []
    for f, path in sources():
        with open(path, encoding="utf-8", errors="replace") as fh:
            if NOTICE not in fh.read(400):
                missing.append(f)
    assert not missing, "without the Apache-2.0 notice: " + ", ".join(missing)


def test_the_licence_is_there():
    with open(os.path.join(REPO, "LICENSE")) as fh:
        assert "Apache License" in fh.read(200)
