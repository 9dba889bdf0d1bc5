-- GET with a Bearer JWT (items_list_jwt).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
