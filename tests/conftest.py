"""Shared test settings: hypothesis runs without deadlines (CI machines are shared and noisy)."""
from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.load_profile("ci")
