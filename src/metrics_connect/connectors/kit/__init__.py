"""The network kit: a network's datasets as data (`streams.yaml`), run by one executor.

Shared core (spec, windows, calls, paging, errors, HTTP, OAuth refresh, quotas) here;
what one API family shares (Meta Graph, Google) in its subpackage; what no spec can say
in the network's own `hooks.py`.
"""
