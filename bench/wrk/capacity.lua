-- (e) A unit manager reads her unit's capacity with the 90-day forecast. Rows: token.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["200"] = true }

function request()
	return wrk.format("GET", "/api/v1/reports/capacity?days=90", common.auth(common.pick()))
end
