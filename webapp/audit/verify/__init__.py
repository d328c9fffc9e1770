"""Verification of a node's whole audit log, on demand: `flask audit verify`."""

from .findings import Break, Kind, Summary
from .runs import LAST_OUTCOME, RunOutcome, VerificationRun, last_run, outcome_among, record_run
from .verifier import verify_log

__all__ = ["LAST_OUTCOME", "Break", "Kind", "RunOutcome", "Summary", "VerificationRun",
           "last_run", "outcome_among", "record_run",
           "verify_log"]
