-- (c) A secretary logs a visit that took place within the last two hours (never in the future,
-- which is refused). Rows: token, child id (placed, on her caseload).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["201"] = true }

function request()
	local row = common.pick()
	local at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 600 - math.random(0, 6600))
	local body = string.format(
		'{"occurred_at":"%s","mode":"home_visit","at_placement":true,"completed":true,' ..
			'"spoke_alone":true,"planned":true,"notes":"Uppföljning, bench."}', at)
	return wrk.format("POST", "/api/v1/children/" .. row[2] .. "/visits",
		common.auth(row, { ["Content-Type"] = "application/json" }), body)
end
