-- wrk script for scripts/bench-ledger: POST /api/v1/watch with realistic, unique watch reports.
--
--   BENCH_TOKEN=<token> wrk -s watch.lua http://127.0.0.1:PORT -- BATCH MEMBERS LESSONS.tsv PREFIX [STATIONS.tsv]
--
-- BATCH 1 sends one report per request; more sends {"reports":[...]} of that many. MEMBERS are
-- M000000 .. M<MEMBERS-1> (zero-padded to 6 digits). Without STATIONS.tsv every report is for
-- a member drawn from all of them, sent with BENCH_TOKEN (an admin's). With it (`org<TAB>token`
-- lines from `gen-ledger stations`, branches b0000, b0001, ... of 100 members each: bN holds
-- members 100N .. 100N+99), each request is a station's upload: one station drawn at random,
-- its token, and every report for a member of its branch. LESSONS.tsv holds `id<TAB>duration_ms<TAB>
-- lang,lang` lines. Report ids are PREFIX-<thread>-<counter>, unique per run and thread.
-- A report is a 30-60 s heartbeat of a player: a random member and lesson, a wall interval that
-- ended between 10 minutes and 30 days ago (well inside the server's 90-day and 5-minute limits,
-- computed from os.time() at every request), the same length of media played from a random
-- position inside the lesson, position_ms at its end, and device_clock set to the sending time.
-- done() prints one line: LEDGER_LUA requests=.. credited=.. duplicate=.. rejected=.. non200=..
-- followed by the first rejected answer or non-200 body, if any.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local batch, members, lessons, prefix, headers, stations
local seq = 0
answered, credited, duplicate, rejected, non200, sample = 0, 0, 0, 0, 0, ""

function init(args)
  batch = tonumber(args[1]) or 1
  members = tonumber(args[2]) or 10000
  prefix = args[4] or "r"
  if args[5] then
    stations = {}
    local f = assert(io.open(args[5], "r"), "cannot open the stations file " .. args[5])
    for line in f:lines() do
      local org, token = line:match("^([^\t]+)\t(%S+)$")
      if org then
        table.insert(stations, { first = 100 * tonumber(org:match("%d+")), token = token })
      end
    end
    f:close()
    assert(#stations > 0, "no stations in " .. args[5])
  end
  lessons = {}
  local f = assert(io.open(args[3], "r"), "cannot open the lessons file " .. tostring(args[3]))
  for line in f:lines() do
    local id, ms, langs = line:match("^([^\t]+)\t(%d+)\t([^\t]+)$")
    if id then
      local l = { id = id, ms = tonumber(ms), langs = {} }
      for lang in langs:gmatch("[^,]+") do table.insert(l.langs, lang) end
      table.insert(lessons, l)
    end
  end
  f:close()
  assert(#lessons > 0, "no lessons in " .. args[3])
  local token = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  math.randomseed(os.time() * 1000 + tid)
end

local function stamp(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function report(now, clock, member)
  seq = seq + 1
  local l = lessons[math.random(#lessons)]
  local len = math.random(30, 60) * 1000
  local from = math.random(0, math.floor(math.max(0, l.ms - len) / 1000)) * 1000
  local to = math.min(from + len, l.ms)
  local wall_end = now - math.random(600, 30 * 86400)
  local wall_start = wall_end - math.ceil((to - from) / 1000)
  return string.format(
    '{"id":"%s-%d-%d","member":"M%06d","lesson":"%s","lang":"%s","played":[[%d,%d]],' ..
    '"wall":["%s","%s"],"position_ms":%d,"device_clock":"%s","group_session":null}',
    prefix, tid, seq, member(), l.id, l.langs[math.random(#l.langs)],
    from, to, stamp(wall_start), stamp(wall_end), to, clock)
end

function request()
  local now = os.time()
  local clock = stamp(now)
  local body
  local member = function() return math.random(0, members - 1) end
  local sending = headers
  if stations then
    local station = stations[math.random(#stations)]
    member = function() return math.min(members - 1, station.first + math.random(0, 99)) end
    sending = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. station.token }
  end
  if batch == 1 then
    body = report(now, clock, member)
  else
    local parts = {}
    for i = 1, batch do parts[i] = report(now, clock, member) end
    body = '{"reports":[' .. table.concat(parts, ",") .. ']}'
  end
  return wrk.format("POST", "/api/v1/watch", sending, body)
end

local function count(body, status)
  local _, n = body:gsub('"status":"' .. status .. '"', "")
  return n
end

function response(status, hdrs, body)
  answered = answered + 1
  if status ~= 200 then
    non200 = non200 + 1
    if sample == "" then sample = status .. " " .. body:sub(1, 300) end
    return
  end
  credited = credited + count(body, "credited")
  duplicate = duplicate + count(body, "duplicate")
  local r = count(body, "rejected")
  rejected = rejected + r
  if r > 0 and sample == "" then sample = body:sub(1, 300) end
end

function done(summary, latency, requests)
  local t = { answered = 0, credited = 0, duplicate = 0, rejected = 0, non200 = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
    local s = thread:get("sample")
    if first == "" and s and s ~= "" then first = s end
  end
  io.write(string.format("LEDGER_LUA requests=%d credited=%d duplicate=%d rejected=%d non200=%d\n",
    t.answered, t.credited, t.duplicate, t.rejected, t.non200))
  if first ~= "" then io.write("LEDGER_LUA_SAMPLE " .. first:gsub("\n", " ") .. "\n") end
end
