"""Compaction: removing the part of the log a snapshot covers and every peer has
acknowledged (or that is older than the configured retention), keeping what readers
and verification need to say where history was compacted and to prove the rest.

plan.py decides, run.py removes, points.py tells readers where history was cut. (No
imports here: verification reads points.py without pulling replication in.)"""
