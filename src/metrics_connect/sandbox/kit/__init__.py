"""The sandbox kit: what every network emulator shares, so that an emulator is its
routes, its seeded data spec and only the query semantics that are new.

- `controls`: clock, latency and fault switches, call counter, the sandbox token rule.
- `seeded`: deterministic numbers from key parts, exact integer splits, daily series
  (trend, weekly season, yearly wave, noise), object lifetimes.
- `calendar`: an account's local days (time zone, partial today), on a clock.
- `fleet`: many generated accounts behind one emulator, the token naming the account.
- `select_query`: a small SQL-like query language (SELECT ... FROM ... WHERE ...).
- `versions`: API versions served, the oldest one, end-of-life dates.
- `paging`: opaque cursors, offset/total, page number with Link header, page tokens,
  count/cursor with next_cursor.
- `templates`: objects' wire forms as data.yaml templates the code fills with values.
- `rate_window`: fixed-window budgets announced in x-rate-limit-* headers.
- `oauth1`: OAuth 1.0a Authorization headers and HMAC-SHA1 signature checks.
- `problem`: refusals as Problem Details (application/problem+json).
- `field_paths`: partial responses by dotted `fields` / `exclude_fields` paths.
- `formulas`: metric formulas as data (arithmetic over given values, in order).
- `proto_json`: the proto3 JSON mapping (dotted snake_case paths, camelCase members,
  field masks) of Google's REST APIs.
- Per API family: `meta_graph` (+ `meta_graph_app`, `graph_fields`, `graph_insights`,
  `graph_nodes`, `graph_metrics`) for Graph APIs,
  `google` for Google APIs (+ `google_reports`: Core Reporting style queries and
  result tables), `json_rest` for plain JSON REST APIs, `wp_rest` for WordPress REST
  namespaces (WooCommerce): error envelopes, tokens and the fault gate in each family's
  words.
"""
