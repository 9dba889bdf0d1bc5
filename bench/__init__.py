"""Benchmark harness for Orderly: ratios against a bare-FastAPI and a raw ASGI baseline.

Run it with ``uv run python -m bench`` (see ``bench/README.md``).
"""
