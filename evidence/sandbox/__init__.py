"""Local stand-ins for controller APIs (loopback HTTP, upstream-shaped answers) for tests and the demo.

Each holds in-memory state that the caller fills; nothing here is used by the running service.
"""
