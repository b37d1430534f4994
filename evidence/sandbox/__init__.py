"""Local stand-ins for forge APIs, driven by a small in-memory model that tests and the demo fill.

They answer real clients (PyGithub, python-gitlab) over HTTP on 127.0.0.1 with upstream-shaped
payloads, so the harvesters run unchanged against them. Nothing here is used in production code.
"""
