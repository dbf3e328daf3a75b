// Copyright 2026 The cacert-httpd authors
// SPDX-License-Identifier: Apache-2.0
// Bundles js/browserkey.js with its npm packages (pkijs, asn1js) into one
// minified file for the in-browser key page, and writes its Subresource
// Integrity value (sha384) beside it; the module reads that at start-up
// (CAcertBrowserKeys, docs/browser-keys.md).
//
//   node js/build.mjs [OUTFILE]      default htdocs/js/cacert-keys.js
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = process.argv[2] || join(root, "htdocs", "js", "cacert-keys.js");

await build({
    entryPoints: [join(root, "js", "browserkey.js")],
    outfile: out,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "eof",
    logLevel: "warning",
});
const body = readFileSync(out);
const sri = "sha384-" + createHash("sha384").update(body).digest("base64");
writeFileSync(out + ".sri", sri + "\n");
console.log(`${out}: ${body.length} bytes, ${gzipSync(body, { level: 9 }).length} gzipped, ${sri}`);
