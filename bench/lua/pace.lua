-- Appended after another script (wrk.run(script="NAME+pace")): each
-- connection pauses PACE milliseconds (the last script argument) before
-- each of its requests, so that the load is a steady rate (at most
-- connections x 1000/PACE requests/s) rather than as fast as httpd answers.
-- The pause is not part of a request's latency.
local pace_inner_init = init
function init(args)
   pace_ms = tonumber(args[#args])
   if pace_ms == nil then
      error("pace.lua: the last argument must be the pause in milliseconds")
   end
   if pace_inner_init then pace_inner_init(args) end
end

function delay()
   return pace_ms
end
