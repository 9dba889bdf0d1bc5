-- GET one item with the ETag seen at seeding time: every answer should be a 304.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY")
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")
