-- wrk script for scripts/bench-delivery.
--
-- Environment (read by every wrk thread; wrk loads this file once per thread):
--   BENCH_MODE        fixed  : every request sends the same Range header (static request)
--                     random : every request asks for BENCH_RANGE_LEN bytes at a random offset
--                     full   : plain GET of the whole file
--   BENCH_RANGE       Range header for mode fixed (default "bytes=0-1023")
--   BENCH_RANGE_LEN   length of the random ranges (default 1048576)
--   BENCH_FILE_SIZE   size of the file in bytes (required for random)
--   BENCH_SEED        base seed for the random offsets (default 1); thread i uses seed+i
--
-- Nothing here looks at response bodies: defining a `response` callback makes wrk
-- copy every body into Lua, which would distort the 1 MiB and 50 MB figures. The
-- bench script instead checks statuses and bytes with curl before each run, and
-- done() reports wrk's own error counts (status >= 400, socket errors) and the mean
-- bytes per completed request, which the bench script compares with the expected size.

local mode = os.getenv("BENCH_MODE") or "fixed"

if mode == "fixed" then
  wrk.headers["Range"] = os.getenv("BENCH_RANGE") or "bytes=0-1023"
elseif mode == "random" then
  local range_len = tonumber(os.getenv("BENCH_RANGE_LEN") or "1048576")
  local file_size = tonumber(os.getenv("BENCH_FILE_SIZE") or "0")
  if file_size < range_len then
    error("BENCH_FILE_SIZE must be set and >= BENCH_RANGE_LEN for mode random")
  end
  local max_start = file_size - range_len
  local headers = {}
  local path = wrk.path

  function init(args)
    -- `id` is set by setup() below before the thread starts.
    math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1") + (id or 0))
  end

  function request()
    -- math.random() is a double with 52 random bits: uniform over any file size
    local start = math.floor(math.random() * (max_start + 1))
    headers["Range"] = "bytes=" .. start .. "-" .. (start + range_len - 1)
    return wrk.format("GET", path, headers)
  end
elseif mode ~= "full" then
  error("unknown BENCH_MODE " .. mode)
end

local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local per_req = 0
  if summary.requests > 0 then per_req = summary.bytes / summary.requests end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f bytes=%d rps=%.1f mbps=%.1f " ..
    "bytes_per_req=%.1f status_errors=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d timeouts=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, secs, summary.bytes, summary.requests / secs,
    summary.bytes / secs / 1e6, per_req, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
