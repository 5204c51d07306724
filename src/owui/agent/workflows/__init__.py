"""Workflows: declarative steps that pass named values, run in the background."""
