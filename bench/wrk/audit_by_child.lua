-- (h) An auditor reads the log of one child over the last year (first page, chain order).
-- Rows: token, child id. BENCH_FROM, BENCH_TO: RFC 3339 instants in UTC.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["200"] = true }
local from, to = os.getenv("BENCH_FROM"), os.getenv("BENCH_TO")

function request()
	local row = common.pick()
	local path = string.format("/api/v1/audit-events?child_id=%s&from=%s&to=%s", row[2], from, to)
	return wrk.format("GET", path, common.auth(row))
end
