"""Local stand-ins for upstream services, for tests, benchmarks and the demo (loopback only)."""
