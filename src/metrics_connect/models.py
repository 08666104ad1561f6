"""Imports every table so that Alembic and create_all see the whole schema."""

from metrics_connect.accounts.models import (  # noqa: F401
    Customer,
    CustomerIntegration,
    IntegrationSession,
    Merchant,
)
from metrics_connect.connect.models import OAuthGrant, OAuthState  # noqa: F401
from metrics_connect.engine.tables import fact_coverage, fact_rows  # noqa: F401
from metrics_connect.jobs.models import Job, JobAttempt  # noqa: F401
from metrics_connect.sync.models import SyncState  # noqa: F401
