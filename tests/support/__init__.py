"""Test infrastructure: moto server process, fault-injecting proxy, browser helpers.

Modules here import each other relatively so the package works whether it is
imported as ``tests.support`` (repository root on ``sys.path``, e.g. with
``python -m pytest``) or under another top-level name.
"""
