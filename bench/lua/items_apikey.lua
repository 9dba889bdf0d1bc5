-- GET with an API key (items_list_apikey, items_list_nocache, items_list_c48).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY")
