"""The static-website front for browser tests: one implementation, shared with the demo."""

from mkdocs_s3_crossaccount.demo.webfront import PASSED_HEADERS, FrontRequest, WebFront

__all__ = ["PASSED_HEADERS", "FrontRequest", "WebFront"]
