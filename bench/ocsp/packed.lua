-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST OCSP requests read from one file of DER requests laid end to
-- end (bench/bigdata.py writes it), either in order -- each thread walks its
-- own share of the file, so no request is asked twice until the file wraps
-- (a cold cache) -- or at random (a warm one).
--   wrk -t2 -c32 -d10s -s bench/ocsp/packed.lua http://127.0.0.1:P/ocsp -- FILE seq|random THREADS
local threads_seen = 0
local prepared = {}
local pos = 1
local mode = "random"

function setup(thread)
   threads_seen = threads_seen + 1
   thread:set("thread_no", threads_seen)
end

local function der_len(s, i)
   -- the length of the DER element at i (a SEQUENCE), header included
   local b = s:byte(i + 1)
   if b < 0x80 then
      return 2 + b
   end
   local n, len = b - 0x80, 0
   for k = 1, n do
      len = len * 256 + s:byte(i + 1 + k)
   end
   return 2 + n + len
end

function init(args)
   mode = args[2] or "random"
   local f = assert(io.open(args[1], "rb"))
   local s = f:read("*a")
   f:close()
   local all, i = {}, 1
   while i <= #s do
      local l = der_len(s, i)
      all[#all + 1] = s:sub(i, i + l - 1)
      i = i + l
   end
   -- thread k of T keeps the requests k, k+T, k+2T...: no overlap in "seq"
   local k, t = (thread_no or 1), tonumber(args[3]) or 2
   if mode ~= "seq" then
      k, t = 1, 1
   end
   for j = k, #all, t do
      prepared[#prepared + 1] = wrk.format("POST", wrk.path,
                                           { ["Content-Type"] = "application/ocsp-request" },
                                           all[j])
   end
   math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
end

function request()
   if mode == "seq" then
      local r = prepared[pos]
      pos = pos % #prepared + 1
      return r
   end
   return prepared[math.random(#prepared)]
end
