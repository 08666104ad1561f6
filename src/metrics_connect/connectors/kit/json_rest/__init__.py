"""The plain JSON REST family (Pinterest, shop platforms, CRM and e-mail tools): Bearer
tokens, an error object at the top of the body or under `error`, HTTP statuses that
mostly say what went wrong, and Retry-After on 429."""
