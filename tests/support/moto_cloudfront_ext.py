"""moto's server with the CloudFront calls a function deploy needs, as a real process.

moto 5.2.5 stores CloudFront Functions but cannot publish one (PublishFunction: 404),
update one (UpdateFunction: 500) or tell the DEVELOPMENT stage from LIVE, and its
distribution configs drop ``FunctionAssociations``, ``LambdaFunctionAssociations``,
``S3OriginConfig`` and ``OriginAccessControlId``. This launcher patches moto's CloudFront
backend and responses for exactly those, then runs moto's own server::

    python -m tests.support.moto_cloudfront_ext -H 127.0.0.1 -p PORT

Everything else is moto unchanged (STS, S3, IAM, auth mode, ``/moto-api/reset``). The
patches model CloudFront's documented behaviour: UpdateFunction and PublishFunction need
``IfMatch`` equal to the DEVELOPMENT stage's ETag (else ``PreconditionFailed``, or
``InvalidIfMatchVersion`` when missing); UpdateFunction changes DEVELOPMENT only;
PublishFunction copies DEVELOPMENT to LIVE; GetFunction/DescribeFunction honour ``Stage``
(LIVE of an unpublished function: ``NoSuchFunctionExists``); UpdateDistribution needs the
distribution's current ETag and issues a new one. Start it with
:func:`tests.support.motoserver.start_moto_server` (``module=`` this module).
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from moto.cloudfront import models, responses, urls
from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

_ORIGINAL_BEHAVIOUR_INIT = models.DefaultCacheBehaviour.__init__
_ORIGINAL_ORIGIN_INIT = models.Origin.__init__
_ORIGINAL_FUNCTION_INIT = models.CloudFrontFunction.__init__
_ORIGINAL_UPDATE_DISTRIBUTION = models.CloudFrontBackend.update_distribution


class PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__("PreconditionFailed", "The If-Match version is missing or not valid for the resource.")


def _behaviour_init(self: Any, config: dict[str, Any]) -> None:
    _ORIGINAL_BEHAVIOUR_INIT(self, config)
    for key, attr in (
        ("FunctionAssociations", "function_associations"),
        ("LambdaFunctionAssociations", "lambda_function_associations"),
    ):
        value = copy.deepcopy(config.get(key)) or {"Quantity": 0}
        value["Quantity"] = len(value.get("Items") or [])
        if not value.get("Items"):
            value.pop("Items", None)
        setattr(self, attr, value)


def _origin_init(self: Any, origin: dict[str, Any]) -> None:
    _ORIGINAL_ORIGIN_INIT(self, origin)
    if "S3OriginConfig" in origin:
        self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity") or ""}
    self.origin_access_control_id = origin.get("OriginAccessControlId") or ""


def _function_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _ORIGINAL_FUNCTION_INIT(self, *args, **kwargs)
    self.live = None  # (config, code, etag, last_modified) once published


def _stage(function: Any, stage: str | None) -> dict[str, Any]:
    """The summary, code and ETag of one stage of a function."""
    if (stage or "DEVELOPMENT") == "LIVE":
        if function.live is None:
            raise models.NoSuchFunctionExists(function.name)
        config, code, etag, modified = function.live
        status = "DEPLOYED"
    else:
        config, code, etag, modified = function.config, function.code, function.etag, function.last_modified_time
        status = function.status
    summary = {
        "Name": function.name,
        "Status": status,
        "FunctionConfig": config,
        "FunctionMetadata": {
            "FunctionARN": function.arn,
            "Stage": stage or "DEVELOPMENT",
            "CreatedTime": function.created_time,
            "LastModifiedTime": modified,
        },
    }
    return {"summary": summary, "code": code, "etag": etag}


def _check_if_match(function: Any, if_match: str | None) -> None:
    if not if_match:
        raise InvalidIfMatchVersion()
    if if_match != function.etag:
        raise PreconditionFailed()


def update_function(self: Any, name: str, if_match: str | None, config: dict[str, Any], code: bytes) -> Any:
    function = self.describe_function(name)
    _check_if_match(function, if_match)
    function.config = config
    function.code = code
    function.status = "UNPUBLISHED"
    function.last_modified_time = utcnow()
    function.etag = models.random_id()
    return function


def publish_function(self: Any, name: str, if_match: str | None) -> Any:
    function = self.describe_function(name)
    _check_if_match(function, if_match)
    function.live = (copy.deepcopy(function.config), function.code, models.random_id(), utcnow())
    function.status = "UNASSOCIATED"
    return function


def update_distribution(self: Any, dist_config: dict[str, Any], _id: str, if_match: str | None) -> Any:
    dist = self.distributions.get(_id)
    if dist is not None and if_match and if_match != dist.etag:
        raise PreconditionFailed()
    dist, location, _ = _ORIGINAL_UPDATE_DISTRIBUTION(self, dist_config, _id, if_match)
    dist.etag = models.random_id()
    return dist, location, dist.etag


def _r_describe_function(self: Any) -> ActionResult:
    function = self.backend.describe_function(name=self._get_param("Name"))
    stage = _stage(function, self._get_param("Stage"))
    return ActionResult({"FunctionSummary": stage["summary"], "ETag": stage["etag"]})


def _r_get_function(self: Any) -> ActionResult:
    function = self.backend.get_function(name=self._get_param("Name"))
    stage = _stage(function, self._get_param("Stage"))
    return ActionResult(
        {"FunctionCode": stage["code"], "ETag": stage["etag"], "ContentType": "application/octet-stream"}
    )


def _r_update_function(self: Any) -> ActionResult:
    function = self.backend.update_function(
        self._get_param("Name"),
        self._get_param("IfMatch"),
        self._get_param("FunctionConfig", {}),
        self._get_param("FunctionCode"),
    )
    stage = _stage(function, "DEVELOPMENT")
    return ActionResult({"FunctionSummary": stage["summary"], "ETag": stage["etag"]})


def _r_publish_function(self: Any) -> ActionResult:
    function = self.backend.publish_function(self._get_param("Name"), self._get_param("IfMatch"))
    stage = _stage(function, "LIVE")
    return ActionResult({"FunctionSummary": stage["summary"]})


def install() -> None:
    """Apply the patches (idempotent)."""
    if getattr(models, "_mkdocs_s3xa_extended", False):
        return
    models.DefaultCacheBehaviour.__init__ = _behaviour_init  # type: ignore[method-assign]
    models.Origin.__init__ = _origin_init  # type: ignore[method-assign]
    models.CloudFrontFunction.__init__ = _function_init  # type: ignore[method-assign]
    models.CloudFrontBackend.update_function = update_function  # type: ignore[attr-defined]
    models.CloudFrontBackend.publish_function = publish_function  # type: ignore[attr-defined]
    models.CloudFrontBackend.update_distribution = update_distribution  # type: ignore[method-assign]
    responses.CloudFrontResponse.describe_function = _r_describe_function  # type: ignore[method-assign]
    responses.CloudFrontResponse.get_function = _r_get_function  # type: ignore[method-assign]
    responses.CloudFrontResponse.update_function = _r_update_function  # type: ignore[attr-defined]
    responses.CloudFrontResponse.publish_function = _r_publish_function  # type: ignore[attr-defined]
    urls.url_paths["{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"] = responses.CloudFrontResponse.dispatch
    models._mkdocs_s3xa_extended = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    install()
    from moto import server

    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
