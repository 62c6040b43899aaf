"""Transfer paths behind the S3 destination: how a batch of files reaches the bucket.

``S3Destination`` owns one ``Transfer``; it does the bulk uploads (small PutObjects and
multipart) while the destination keeps the single-object calls (lock, manifest, listing,
copies, deletes). Implementations: ``BotocoreTransfer`` (``aws.botocore_transfer``), and the
AWS Common Runtime's native S3 client (``aws.crt_transfer``) where it is installed and the
server works with it.

Contract for every implementation:
- send each upload's headers (``Upload.file.header_dict``: ContentType, CacheControl,
  ContentEncoding, WebsiteRedirectLocation, ServerSideEncryption, SSEKMSKeyId) and
  ExpectedBucketOwner;
- use our multipart threshold and part size (``core.inventory``) so ETags match the plan;
- return the ETag the server answered for each key, and translate failures with
  ``aws.diagnose`` into PublishError (bucket, key, identity named);
- stop starting new uploads after the first failure; never raise for a single file's failure
  (it goes into ``Batch.errors``); call ``on_done`` once per finished upload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from mkdocs_s3_crossaccount.core.destination import Batch, Progress

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.core.plan import Upload


class Transfer(Protocol):
    """Uploads a batch of planned files to one bucket."""

    name: str  # "botocore" or "crt", for reports

    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch: ...

    def close(self) -> None:
        """Release pools and native resources."""
        ...
