-- (b) A secretary opens a child of her caseload: an audited read. Rows: token, child id.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["200"] = true }

function request()
	local row = common.pick()
	return wrk.format("GET", "/api/v1/children/" .. row[2], common.auth(row))
end
