"""The roles an API key can have (kept apart so that the command line can name them without loading the
service)."""

ROLES = ("cooperative", "buyer", "planner", "operator")
