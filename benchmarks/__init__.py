"""Speed and memory measurements, run on demand (``make bench`` = ``python -m benchmarks``).

Groups: ``core_bench`` (the attention maths), ``load_bench`` (vector files, the cache, the
background loader, neighbour search), ``memory_bench`` (resident memory), ``window_bench`` (the
real window: update latency and start-up). ``timing`` holds the shared median/repeat helpers.
Nothing here is imported by the application or by ``make test`` (except one smoke test).
"""
