"""The model loader's service check answers as botocore's full listing does, without the listing.

botocore lists every service folder it ships for each model type before loading one model;
``_Services`` answers ``name in ...`` from the one service's folder. No AWS: these are the
model files botocore ships.
"""

from __future__ import annotations

import os

import botocore.loaders
import botocore.session
import pytest

from mkdocs_s3_crossaccount.aws.session import _quick_loader, _Services

TYPES = ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2")


@pytest.mark.parametrize("type_name", TYPES)
def test_membership_agrees_with_botocores_listing(type_name: str) -> None:
    reference = botocore.loaders.Loader()
    everything = reference.list_available_services(type_name)
    quick = _Services(botocore.loaders.Loader(), type_name)
    assert len(everything) > 50
    for name in [*everything[::7], "s3", "sts", "cloudfront"]:
        assert (name in quick) == (name in everything), name
    for name in ("no-such-service", "", "s3 ", "../s3"):
        assert name not in quick
    assert list(quick) == everything and len(quick) == len(everything)


def test_a_client_is_made_without_listing_every_service_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    session = botocore.session.Session()
    session.register_component("data_loader", _quick_loader(session))
    calls = []
    real = os.listdir

    def counting(path: str) -> list[str]:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(os, "listdir", counting)
    client = session.create_client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert client.meta.service_model.service_name == "s3"
    assert client.can_paginate("list_objects_v2")
    assert len(calls) < 30, len(calls)  # botocore's own loader lists every service folder: > 1,000

    plain = botocore.session.Session()
    calls.clear()
    plain.create_client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert len(calls) > 300  # the count above can fail: the plain loader does list them all


def test_an_unknown_service_is_still_botocores_error() -> None:
    session = botocore.session.Session()
    session.register_component("data_loader", _quick_loader(session))
    with pytest.raises(botocore.exceptions.UnknownServiceError, match=r"Valid service names are: .*s3"):
        session.create_client("no-such-service", region_name="us-east-1")


def test_aws_data_path_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", os.fspath(tmp_path))
    loader = _quick_loader(botocore.session.Session())
    assert os.fspath(tmp_path) in loader.search_paths
