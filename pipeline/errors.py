"""The one exception tree of the pipeline.

Agents catch :class:`PipelineError` per event: a ``retriable`` error is retried
with a bounded backoff, anything else goes to the dead-letter topic with the
message as its reason.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error a stage raises on purpose."""

    retriable: bool = False


class InvalidRecord(PipelineError):
    """The input cannot become a record: not JSON, wrong shape, bad values."""


class ExtractionError(PipelineError):
    """A stage failed on a well-formed record."""


class RuleError(PipelineError):
    """An alert rule file is invalid; the message names the rule and field."""


class TransientError(PipelineError):
    """A failure worth retrying (a busy dependency, a timeout)."""

    retriable = True
