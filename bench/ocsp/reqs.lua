-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- Shared by post.lua and get.lua: loads the OCSP requests written by
-- bench/ocsp_bench.py (DIR/0.der .. DIR/<N-1>.der) once per wrk thread.
--   wrk ... -s bench/ocsp/post.lua URL -- DIR N
local M = {}

function M.load(dir, n)
   local out = {}
   for i = 0, n - 1 do
      local f = assert(io.open(dir .. "/" .. i .. ".der", "rb"))
      out[#out + 1] = f:read("*a")
      f:close()
   end
   return out
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      local c1 = math.floor(n / 262144) % 64
      local c2 = math.floor(n / 4096) % 64
      local c3 = math.floor(n / 64) % 64
      local c4 = n % 64
      out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
         .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
   end
   return table.concat(out)
end

function M.urlencode(s)
   return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

-- one seed per thread (setup numbers the threads)
local counter = 0
function M.setup(thread)
   counter = counter + 1
   thread:set("thread_no", counter)
end

function M.seed()
   math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
end

return M
