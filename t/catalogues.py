# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The translation catalogues (po/<lang>.po, docs/translating.md) as the
tests read them: the messages a language has, and a page's or mail's text in
a language, looked up by its English text or its messages.txt key."""

import glob
import os
import re
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PO_DIR = os.path.join(REPO, "po")
TEMPLATES = os.path.join(REPO, "templates")


def languages():
    """The languages with a catalogue, e.g. ["de", "es", "fr", "nl"]."""
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(PO_DIR, "*.po")))


def _unquote(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_po(path):
    """{(msgctxt or None, msgid): {"str": [forms], "fuzzy": bool, "plural": msgid_plural}}
    without the header and obsolete (#~) entries."""
    entries, cur, field = {}, None, None

    def flush():
        if cur and cur.get("msgid") is not None and cur["msgid"] != "":
            entries[(cur.get("msgctxt"), cur["msgid"])] = {
                "str": [cur[k] for k in sorted(k for k in cur if k.startswith("msgstr"))],
                "fuzzy": cur.get("fuzzy", False), "plural": cur.get("msgid_plural")}

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#~"):
                continue
            if line.startswith("#,"):
                flush()
                cur, field = {"fuzzy": "fuzzy" in line}, None
                continue
            if not line.strip() or line.startswith("#"):
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if m:
                key = m.group(1)
                if key in ("msgctxt", "msgid") and cur and (
                        "msgstr" in cur or any(k.startswith("msgstr[") for k in cur)):
                    flush()
                    cur = {}
                if cur is None:
                    cur = {}
                field = key
                cur[field] = _unquote(m.group(2))
            elif line.startswith('"') and field:
                cur[field] += _unquote(line.strip()[1:-1])
    flush()
    return entries


class Catalogue:
    """One language's texts: text("Log in") and msg("title.login") give the
    translation (an assertion error if there is none, so a test never
    passes on English text)."""

    def __init__(self, lang):
        self.lang = lang
        self.entries = parse_po(os.path.join(PO_DIR, f"{lang}.po"))

    def _get(self, ctxt, msgid, form=0):
        e = self.entries.get((ctxt, msgid))
        assert e and not e["fuzzy"] and e["str"][form], \
            f"{self.lang}.po has no translation of {ctxt or ''} {msgid!r}"
        return e["str"][form]

    def text(self, msgid, **values):
        out = self._get(None, msgid)
        for k, v in values.items():
            out = out.replace("{{%s}}" % k, v)
        return out

    def msg(self, key):
        english = messages()[key]
        return self._get(key, english)


_messages = None


def messages():
    """messages.txt: key -> English text."""
    global _messages
    if _messages is None:
        _messages = {}
        with open(os.path.join(TEMPLATES, "messages.txt"), encoding="utf-8-sig") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, _, v = line.partition("=")
                    _messages[k.strip()] = v.strip()
    return _messages


def make_pot(path):
    """Extract the messages of the templates into path, as `make pot` does."""
    subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "po-extract"),
                    "--templates", TEMPLATES, "-o", path], check=True)
    return path
