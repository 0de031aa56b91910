"""The end-to-end stack fixtures (tests/e2e/conftest.py), for the browser test of escaping."""

from tests.e2e.conftest import (  # noqa: F401  (fixtures and the report hook, found by name)
    pytest_runtest_makereport,
    sim,
    simulated_pbx,
    stack,
)
