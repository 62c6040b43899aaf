"""Turn AWS failures into PublishErrors that say what to fix: which policy, principal, ARN.

One place for every translation, so the plugin, the CLI and ``check`` say the same thing.
Messages never include credentials: only ARNs, account ids, bucket and key names.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.policy import principal_from_identity

NETWORK_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)


def code_of(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def status_of(exc: BaseException) -> int:
    """The HTTP status of a ClientError (0 for anything else)."""
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def _aws_text(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', '?')}: {err.get('Message', '').strip()}".rstrip(": ")
    return str(exc)


def no_credentials(exc: BaseException) -> PublishError:
    """No source credentials: where to set them in GitLab and locally."""
    what = "incomplete" if isinstance(exc, PartialCredentialsError) else "none were found"
    return PublishError(
        f"No usable AWS credentials for the source (development) account: {what}.",
        "In GitLab, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as masked CI/CD variables "
        "(or use web_identity_token_env with an id_token); locally, set a profile with `profile:` "
        "or AWS_PROFILE.",
    )


def network(exc: BaseException, what: str) -> PublishError:
    """A network failure after the retries: what to check, and that nothing was lost."""
    return PublishError(
        f"Network failure while {what}, after the retries: {type(exc).__name__}: {exc}",
        "Check the runner's network access to AWS (proxy, VPC endpoint, endpoint_url / AWS_ENDPOINT_URL_*). "
        "Objects already in the bucket were left as they were; rerun the job to finish.",
    )


def source_identity_failed(exc: BaseException) -> PublishError:
    """The development account's credentials were rejected: which variables to check."""
    code = code_of(exc)
    if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"):
        return PublishError(
            f"The source (development) account credentials were rejected by STS ({code}).",
            "The access key id or secret key is wrong or deactivated: check the CI/CD variables "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile) and rotate the key if needed.",
        )
    if code == "ExpiredToken":
        return PublishError(
            "The source credentials have expired (ExpiredToken).",
            "Refresh the session (e.g. `aws sso login`) or use long-lived CI keys / an OIDC id_token.",
        )
    return unexpected(exc, "checking the source identity with sts:GetCallerIdentity")


def assume_role_failed(exc: BaseException, role_arn: str, caller_arn: str | None, external_id: bool) -> PublishError:
    """AssumeRole (or the web-identity hop) failed: the trust and identity policy statements to add."""
    code = code_of(exc)
    who = caller_arn or "the source identity"
    if code == "AccessDenied":
        cond = (
            ' and a Condition {"StringEquals": {"sts:ExternalId": "<your external_id>"}} that matches external_id'
            if external_id
            else ""
        )
        return PublishError(
            f"AssumeRole into {role_arn} was denied for {who}.",
            f"In the documents account, the trust policy of {role_arn} must allow "
            f'{{"Effect": "Allow", "Principal": {{"AWS": "{caller_arn or "<caller ARN>"}"}}, '
            f'"Action": "sts:AssumeRole"{cond}}}; and in the development account, {who} needs an identity '
            f'policy allowing "sts:AssumeRole" on "{role_arn}". Check also that role_arn names an existing role.',
        )
    if code == "ValidationError" and "DurationSeconds" in str(exc):
        return PublishError(
            f"AssumeRole into {role_arn} refused the session duration: {_aws_text(exc)}",
            "Lower duration_seconds, or raise the role's MaxSessionDuration "
            "(aws iam update-role --max-session-duration). Chained role sessions are capped at 3600 s.",
        )
    if code == "RegionDisabledException":
        return PublishError(
            f"STS is not activated in this region for the documents account: {_aws_text(exc)}",
            "Activate the region in the account's IAM settings, or set region to an active one.",
        )
    if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"):
        return source_identity_failed(exc)
    if code in ("InvalidIdentityToken", "ExpiredTokenException", "IDPRejectedClaim", "IDPCommunicationError"):
        return PublishError(
            f"AssumeRoleWithWebIdentity into {role_arn} rejected the OIDC token ({code}).",
            "Check the role's trust policy: the Federated principal must be the GitLab OIDC provider, and "
            "its aud/sub conditions must match the id_token's aud and the project/branch (sub). Tokens live "
            "as long as the job, so use them during the job.",
        )
    return unexpected(exc, f"assuming {role_arn}")


def wrong_account(actual_arn: str, actual: str, expected: str, role_arn: str | None) -> PublishError:
    """The credentials act in another account than the publish targets."""
    return PublishError(
        f"The credentials act in account {actual} ({actual_arn}), but the publish targets account {expected}.",
        f"Check role_arn ({role_arn}) and expected_bucket_owner; refusing to write with the wrong account's "
        "credentials."
        if role_arn
        else "Set role_arn to the documents account's role, or set expected_bucket_owner to this account.",
    )


def bucket_failed(exc: BaseException, bucket: str, owner: str, identity_arn: str, action: str) -> PublishError:
    """Errors of a bucket-level call (ListObjectsV2, HeadBucket)."""
    if isinstance(exc, NETWORK_ERRORS):
        return network(exc, f"{action} s3://{bucket}")
    code = code_of(exc)
    status = status_of(exc)
    if code in ("NoSuchBucket",) or (status == 404 and code in ("404", "NotFound")):
        return PublishError(
            f"Bucket {bucket!r} does not exist (or not in this partition).",
            f"Check the bucket name, or create it in account {owner}: "
            f"aws s3api create-bucket --bucket {bucket} (with the right region).",
        )
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        return PublishError(
            f"Access denied to {action} s3://{bucket} as {identity_arn}.",
            f"Either the bucket is not owned by account {owner} (ExpectedBucketOwner check; set "
            f"expected_bucket_owner if it lives elsewhere), or the role's permission policy lacks "
            f'{{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::{bucket}"}}; '
            "a bucket policy or SCP may also deny it.",
        )
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        return PublishError(
            f"Bucket {bucket!r} is in another region than the one configured: {_aws_text(exc)}",
            "Set region to the bucket's region.",
        )
    return unexpected(exc, f"{action} s3://{bucket}")


def read_failed(exc: BaseException, bucket: str, key: str, identity_arn: str, what: str = "") -> PublishError:
    """Errors of GetObject; ``what`` names the object's role (e.g. "the deploy manifest")."""
    if isinstance(exc, NETWORK_ERRORS):
        return network(exc, f"reading s3://{bucket}/{key}")
    if code_of(exc) in ("AccessDenied", "403", "Forbidden"):
        subject = f"{what} " if what else ""
        why = (
            " to read the manifest it writes; without it the publisher cannot tell which objects it owns."
            if what == "the deploy manifest"
            else "."
        )
        return PublishError(
            f"Access denied reading {subject}s3://{bucket}/{key} as {identity_arn}.",
            f'The role needs "s3:GetObject" on "arn:aws:s3:::{bucket}/*" (or the prefix){why}',
        )
    return unexpected(exc, f"reading s3://{bucket}/{key}")


def _principal(identity_arn: str) -> str:
    try:
        return principal_from_identity(identity_arn)
    except ValueError:
        return identity_arn


def object_failed(
    exc: BaseException, bucket: str, key: str, identity_arn: str, action: str, owner: str | None = None
) -> PublishError:
    """Errors of an object-level write (PutObject, multipart upload, DeleteObjects)."""
    if isinstance(exc, NETWORK_ERRORS):
        return network(exc, f"{action} s3://{bucket}/{key}")
    code = code_of(exc)
    if code == "NoSuchBucket":
        return bucket_failed(exc, bucket, "the documents account", identity_arn, action)
    return object_code_failed(code, _aws_text(exc), ObjectRef(bucket, key, identity_arn, owner), action) or unexpected(
        exc, f"{action} s3://{bucket}/{key}"
    )


def account_of(arn: str) -> str | None:
    """The account id in an ARN, or None."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


@dataclass(frozen=True)
class ObjectRef:
    """The object a request was about, and who asked (for messages)."""

    bucket: str
    key: str
    identity_arn: str
    owner: str | None = None  # the ExpectedBucketOwner sent


def object_code_failed(code: str, text: str, ref: ObjectRef, action: str) -> PublishError | None:
    """An object-level error code (also the per-key ones inside a DeleteObjects 200) -> the fix."""
    bucket, key, identity_arn, owner = ref.bucket, ref.key, ref.identity_arn, ref.owner
    if code in ("AccessDenied", "403", "Forbidden"):
        acting = account_of(identity_arn)
        if owner and acting and owner != acting:
            return PublishError(
                f"Access denied to {action} s3://{bucket}/{key} as {identity_arn}: every request requires the "
                f"bucket to be owned by account {owner} (ExpectedBucketOwner), but the credentials act in {acting}.",
                f"If the bucket belongs to {acting}, remove expected_bucket_owner (it defaults to role_arn's "
                f"account); if it belongs to {owner}, set role_arn to a role in {owner}.",
            )
        s3_action = "s3:DeleteObject" if action.startswith("delet") else "s3:PutObject"
        prefix_arn = f"arn:aws:s3:::{bucket}/{key.split('/', 1)[0] + '/*' if '/' in key else '*'}"
        return PublishError(
            f"Access denied to {action} s3://{bucket}/{key} as {identity_arn}.",
            f'The permission policy of {_principal(identity_arn)} must allow "{s3_action}" on the objects, e.g. '
            f'"Resource": "arn:aws:s3:::{bucket}/*" (or "{prefix_arn}" for a prefix) — granting only the '
            f'bucket ARN "arn:aws:s3:::{bucket}" is not enough. The bucket may also belong to another account '
            "than expected (ExpectedBucketOwner check; see expected_bucket_owner), or a bucket policy, SCP or "
            "KMS key policy (SSE-KMS buckets need kms:GenerateDataKey) denies it.",
        )
    if code:
        return PublishError(f"AWS refused to {action} s3://{bucket}/{key}: {text}")
    return None


def not_sts(exc: BaseException) -> bool:
    """The answer to an STS request did not come from STS: an error without an STS error code
    (an S3 server's XML error, an HTML page), or a 200 without the fields STS always sends."""
    if isinstance(exc, ClientError):
        return not code_of(exc) or code_of(exc) in _S3_ONLY_CODES
    return isinstance(exc, KeyError)


# Error codes an S3 server answers to a request it does not understand; STS never sends them.
_S3_ONLY_CODES = frozenset({"MethodNotAllowed", "NoSuchBucket", "InvalidBucketName", "NoSuchKey", "InvalidRequest"})


def sts_misrouted(exc: BaseException, what: str, endpoint: str, set_by: str) -> PublishError:
    """An STS request answered by something that is not STS: name the endpoint and what set it."""
    if isinstance(exc, ClientError):
        status = status_of(exc)
        detail = f"HTTP {status} {_aws_text(exc)}".rstrip(" ?:") if code_of(exc) else f"HTTP {status}, no STS error"
    else:
        detail = f"a reply without {exc} (STS always sends it)"
    return PublishError(
        f"The STS endpoint {endpoint} did not answer like STS while {what} ({detail}). It was set by {set_by}.",
        "Point AWS_ENDPOINT_URL_STS at an STS endpoint (or unset it to use AWS's). AWS_ENDPOINT_URL applies to "
        "every service, STS included: for an S3-compatible store set AWS_ENDPOINT_URL_S3 or endpoint_url instead.",
    )


def unexpected(exc: BaseException, what: str) -> PublishError:
    """Any other failure as one line, translated as far as its type allows."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return no_credentials(exc)
    if isinstance(exc, NETWORK_ERRORS):
        return network(exc, what)
    if isinstance(exc, ClientError):
        return PublishError(f"AWS refused {what}: {_aws_text(exc)}")
    if isinstance(exc, BotoCoreError):
        return PublishError(f"Failed {what}: {exc}")
    return PublishError(f"Failed {what}: {type(exc).__name__}: {exc}")
