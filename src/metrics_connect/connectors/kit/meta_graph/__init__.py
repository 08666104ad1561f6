"""The Meta Graph family (Instagram Graph API, Marketing API): one error envelope, usage
headers, cursor paging, batch requests, `?ids=` reads and async report runs."""
