-- Appended to every benchmark script: prints one machine-readable line
-- ("BENCHJSON {...}") with wrk's totals, latency percentiles (microseconds)
-- and the number of times a token script ran out of distinct tokens.
local bench_threads = {}

function bench_register(thread)
   table.insert(bench_threads, thread)
end

if setup == nil then
   function setup(thread)
      bench_register(thread)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local replays = 0
   for _, t in ipairs(bench_threads) do
      replays = replays + (tonumber(t:get("replays")) or 0)
   end
   io.write(string.format(
      'BENCHJSON {"duration_us":%.0f,"requests":%.0f,"bytes":%.0f,' ..
      '"err_connect":%.0f,"err_read":%.0f,"err_write":%.0f,"err_status":%.0f,"err_timeout":%.0f,' ..
      '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f,"mean_us":%.1f,"max_us":%.0f,"replays":%.0f}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.mean, latency.max, replays))
end
