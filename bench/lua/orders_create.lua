-- POST one-line orders with an API key and no Idempotency-Key. Counts requests
-- sent, responses received and 201s, so the harness can check the stock afterwards:
-- seeded - 201s - (sent - responses) <= stock <= seeded - 201s (requests still in
-- flight when wrk stops may or may not have been committed by the server).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
counter_names = {"sent", "responses", "created"}
sent = 0
responses = 0
created = 0

wrk.method = "POST"
wrk.body = os.getenv("BENCH_ORDER_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY")

local prepared = nil

function init(args)
  prepared = wrk.format()
end

function request()
  sent = sent + 1
  return prepared
end

function response(status, headers, body)
  responses = responses + 1
  if status == 201 then
    created = created + 1
  end
end
