#!/bin/sh
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
# Regenerates the build system (configure, Makefile.in) from configure.ac.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
