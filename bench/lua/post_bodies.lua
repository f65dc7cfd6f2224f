-- POSTs form bodies read from a file, one per line; every body is sent
-- once. Args: FILE FIRST LAST NTHREADS PATH. Thread k of NTHREADS sends the
-- lines FIRST+k, FIRST+k+NTHREADS, ... below LAST. When a thread has sent
-- all of its bodies it starts again from its first one and counts a
-- "replay" round: the report shows it, so a rate is never silently made of
-- repeated tokens.
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   thread:set("replays", 0)
   next_id = next_id + 1
   bench_register(thread)
end

function init(args)
   local file, first, last = args[1], tonumber(args[2]), tonumber(args[3])
   local nthreads, path = tonumber(args[4]), args[5]
   local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
   reqs = {}
   local i = 0
   for line in io.lines(file) do
      if i >= last then break end
      if i >= first and (i - first) % nthreads == id then
         reqs[#reqs + 1] = wrk.format("POST", path, headers, line)
      end
      i = i + 1
   end
   if #reqs == 0 then
      error("no request bodies for thread " .. id .. " in " .. file)
   end
   idx = 0
end

function request()
   idx = idx + 1
   if idx > #reqs then
      idx = 1
      replays = replays + 1
   end
   return reqs[idx]
end
