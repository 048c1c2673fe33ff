-- (a) A social secretary looks at her worklist: due and overdue contacts and decisions of her
-- caseload, each schedule shown an audit event. Rows: token.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["200"] = true }

function request()
	return wrk.format("GET", "/api/v1/me/worklist", common.auth(common.pick()))
end
