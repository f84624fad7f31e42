"""Instructor batch grading: a whole class in one command.

``classlist`` (who submitted what) → ``jobs``/``scheduler`` (parallel runs through the
``cache``) → ``gradebook``, ``summary``, ``review`` and ``similarity`` (outputs rendered
from the result objects). :func:`grader.batch.run.run_batch` ties them together.
"""
