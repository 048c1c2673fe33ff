-- Shared by the scenario scripts: the rows a scenario draws its requests from, and the count
-- of every answer by status, so that a run reports each unexpected status instead of hiding
-- it in a throughput figure. wrk loads a script once per thread and once more for setup and
-- done; each copy counts its own thread's answers and done adds them up.
--
-- BENCH_DATA names a file of tab-separated rows, the first field a bearer token. A scenario
-- sets `expected` (the answers that count as success, by key) and may set `classify`.
local M = {}

local function split(line)
	local fields = {}
	for field in string.gmatch(line, "[^\t]+") do
		fields[#fields + 1] = field
	end
	return fields
end

M.rows = {}
local path = os.getenv("BENCH_DATA")
if path then
	for line in io.lines(path) do
		if line ~= "" then
			M.rows[#M.rows + 1] = split(line)
		end
	end
end

function M.pick()
	return M.rows[math.random(#M.rows)]
end

function M.auth(row, extra)
	local headers = { ["Authorization"] = "Bearer " .. row[1] }
	for k, v in pairs(extra or {}) do
		headers[k] = v
	end
	return headers
end

-- A status by itself, unless the scenario tells answers of one status apart (by problem code).
M.classify = function(status, body)
	return tostring(status)
end
M.expected = {}

local threads = {}
local next_id = 1

function setup(thread)
	thread:set("thread_id", next_id)
	next_id = next_id + 1
	threads[#threads + 1] = thread
end

counts = {}
serial = 0

function init(args)
	-- Each thread draws its own sequence; thread_id is set by setup before init runs.
	math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
	if #M.rows == 0 then
		error("no rows in BENCH_DATA")
	end
end

function response(status, headers, body)
	local key = M.classify(status, body)
	counts[key] = (counts[key] or 0) + 1
end

local function json_string(s)
	return '"' .. tostring(s):gsub('[%c"\\]', function(ch)
		return string.format("\\u%04x", ch:byte())
	end) .. '"'
end

function done(summary, latency, requests)
	local total, unexpected, parts = {}, 0, {}
	for _, thread in ipairs(threads) do
		local theirs = thread:get("counts")
		for key, n in pairs(theirs or {}) do
			total[key] = (total[key] or 0) + n
		end
	end
	for key, n in pairs(total) do
		if not M.expected[key] then
			unexpected = unexpected + n
		end
		parts[#parts + 1] = json_string(key) .. ":" .. n
	end
	local e = summary.errors
	local seconds = summary.duration / 1e6
	io.write(string.format(
		'BENCH_RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
			'"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"socket_errors":%d,"unexpected":%d,"answers":{%s}}\n',
		summary.requests, seconds, summary.requests / seconds,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, latency.mean / 1000,
		e.connect + e.read + e.write + e.timeout, unexpected, table.concat(parts, ",")))
end

return M
