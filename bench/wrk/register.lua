-- (d) A secretary registers a child in her unit. Every body is new (a name no one has), so no
-- request meets a duplicate check's candidates. Rows: token, unit id.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")
common.expected = { ["201"] = true }
local nonce = os.getenv("BENCH_NONCE") or "x"
local serial = 0

function request()
	local row = common.pick()
	serial = serial + 1
	local born = os.date("!%Y-%m-%d", os.time() - (13 * 365 + math.random(0, 4 * 365)) * 86400)
	local body = string.format(
		'{"given_name":"Bench","family_name":"Reg-%s-%d-%d","date_of_birth":"%s",' ..
			'"date_of_birth_assessed":true,"sex":"male","country_of_origin":"Afghanistan",' ..
			'"languages":["dari"],"interpreter_needed":true,"asylum_status":"asylum_seeker",' ..
			'"responsible_unit_id":"%s"}',
		nonce, thread_id or 0, serial, born, row[2])
	return wrk.format("POST", "/api/v1/children",
		common.auth(row, { ["Content-Type"] = "application/json" }), body)
end
