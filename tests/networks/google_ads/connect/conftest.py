"""The connect page's fixtures (emulated sign-in providers, runtime, driver)."""

from tests.connect.conftest import (  # noqa: F401
    connect_db_url,
    driver,
    emulators,
    runtime,
    served_networks,
    settings,
)
