"""Audit packs: scope -> content provider -> evidence -> signed PDF. See build.build_pack."""
