"""Issue 10 item 13: booleans are not numbers, and lock_timeout is a positive number of seconds."""

from __future__ import annotations

from typing import Any

import pytest

from mkdocs_s3_crossaccount.config.reader import validate
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.hosts.options import PluginOptions

GOOD: dict[str, Any] = {"bucket": "example-docs", "role_arn": "arn:aws:iam::222222222222:role/docs-publisher"}

CASES = [
    ("max_delete_share", True, "true/false is not a number"),
    ("max_delete_share", False, "true/false is not a number"),
    ("max_deletes", True, "true/false is not a number"),
    ("concurrency", True, "true/false is not a number"),
    ("duration_seconds", True, "true/false is not a number"),
    ("lock_timeout", False, "true/false is not a number"),
    ("lock_timeout", 0, "not a positive number of seconds"),
    ("lock_timeout", -5, "not a positive number of seconds"),
    ("invalidation_timeout", True, "true/false is not a number"),
]


@pytest.mark.parametrize(("option", "value", "needle"), CASES)
def test_rejected_by_the_plugin_at_config_load(option: str, value: Any, needle: str) -> None:
    opts = PluginOptions()
    opts.load_dict({**GOOD, option: value})
    errors, _ = opts.validate()
    assert [k for k, _ in errors] == [option]
    assert needle in str(errors[0][1])


@pytest.mark.parametrize(("option", "value", "needle"), CASES)
def test_rejected_by_the_cli_reader(option: str, value: Any, needle: str) -> None:
    with pytest.raises(PublishError) as info:
        validate({**GOOD, option: value}, "mkdocs.yml")
    assert f"Option '{option}': " in str(info.value) and needle in str(info.value)


def test_numbers_still_fine() -> None:
    _, settings = validate({**GOOD, "max_delete_share": 1, "lock_timeout": 5, "max_deletes": 0}, "mkdocs.yml")
    assert (settings.max_delete_share, settings.lock_timeout, settings.max_deletes) == (1.0, 5, 0)


def test_lock_timeout_doc_gives_a_production_value() -> None:
    from mkdocs_s3_crossaccount.config.schema import all_options

    doc = next(o.meta.doc for o in all_options() if o.name == "lock_timeout")
    assert "600" in doc and "production" in doc
