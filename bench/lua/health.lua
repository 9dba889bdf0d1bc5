-- GET /health/live, no credentials.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
