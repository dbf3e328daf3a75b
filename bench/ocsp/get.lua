-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- wrk: GET <URL path>/<url-encoded base64 of a random prepared OCSP request>
-- (RFC 6960 appendix A.1).
--   wrk -t2 -c32 -d10s -s bench/ocsp/get.lua http://127.0.0.1:P/ocsp -- DIR N
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local reqs = require("reqs")

local prepared = {}

setup = reqs.setup

function init(args)
   reqs.seed()
   local base = wrk.path:gsub("/+$", "")
   for _, der in ipairs(reqs.load(args[1], tonumber(args[2]))) do
      prepared[#prepared + 1] = wrk.format("GET", base .. "/" .. reqs.urlencode(reqs.base64(der)), {})
   end
end

function request()
   return prepared[math.random(#prepared)]
end
