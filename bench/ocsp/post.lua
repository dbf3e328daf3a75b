-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST a random one of the prepared OCSP requests to the URL's path.
--   wrk -t2 -c32 -d10s -s bench/ocsp/post.lua http://127.0.0.1:P/ocsp -- DIR N
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local reqs = require("reqs")

local prepared = {}

setup = reqs.setup

function init(args)
   reqs.seed()
   for _, der in ipairs(reqs.load(args[1], tonumber(args[2]))) do
      prepared[#prepared + 1] = wrk.format("POST", wrk.path,
                                           { ["Content-Type"] = "application/ocsp-request" }, der)
   end
end

function request()
   return prepared[math.random(#prepared)]
end
