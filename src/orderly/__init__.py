"""Orderly: a multi-tenant order-management API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("orderly")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
