-- (f) Another system (placements:read) lists a child's placements: the only placement list a
-- service account may call until the change feed exists. Rows: token, child id (no protected
-- identity, which a system never sees).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["200"] = true }

function request()
	local row = common.pick()
	return wrk.format("GET", "/api/v1/children/" .. row[2] .. "/placements", common.auth(row))
end
