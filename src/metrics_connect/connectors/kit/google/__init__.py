"""The Google family (Analytics Data API; Ads, Search Console next): the error envelope
{"error": {"code", "message", "status"}}, Bearer tokens refreshed with authlib, quotas
that renew at the next hour or day."""
