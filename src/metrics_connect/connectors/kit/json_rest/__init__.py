"""The plain JSON REST family's connector side (CRM, e-mail and shop APIs)."""
