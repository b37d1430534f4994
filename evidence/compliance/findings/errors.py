class PolicyError(ValueError):
    """Bad policy or acceptance input, or a refused approval; the message names the field."""
