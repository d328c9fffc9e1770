"""Verification of a node's whole audit log, on demand: `flask audit verify`."""

from .findings import Break, Kind, Summary
from .runs import VerificationRun, last_run, record_run
from .verifier import verify_log

__all__ = ["Break", "Kind", "Summary", "VerificationRun", "last_run", "record_run",
           "verify_log"]
