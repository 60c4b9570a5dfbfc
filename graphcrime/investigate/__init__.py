"""Investigator tools over a finished job: scoring against ground truth, explaining chains."""
