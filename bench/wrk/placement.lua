-- (g) Secretaries place waiting children in one HVB home with two free places. The first two
-- get them; after that the home is full (409 facility-full) and a child placed already has a
-- placement (409 placement-overlap): both are the expected answers, counted apart.
-- Rows: token, child id. BENCH_FACILITY: the home; BENCH_TODAY: the start date.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["201"] = true, ["409 facility-full"] = true, ["409 placement-overlap"] = true }
common.classify = function(status, body)
	if status == 409 and body then
		local code = body:match("urn:trygg:problem:([%w%-]+)")
		if code then
			return "409 " .. code
		end
	end
	return tostring(status)
end
local facility = os.getenv("BENCH_FACILITY")
local today = os.getenv("BENCH_TODAY")
local serial = 0

function request()
	local row = common.pick()
	serial = serial + 1
	local body = string.format(
		'{"facility_id":"%s","start_date":"%s","legal_basis":"SoL2025-insats",' ..
			'"decision_reference":"BENCH-%d-%d"}', facility, today, thread_id or 0, serial)
	return wrk.format("POST", "/api/v1/children/" .. row[2] .. "/placements",
		common.auth(row, { ["Content-Type"] = "application/json" }), body)
end
