"""Repositories of the notice-and-action workflow: the only modules with its SQL.

Functions take an open ``Connection`` so that one workflow step (a notice with its cases and
deadlines, a decision with its statements, audit event and messages) commits or rolls back as
one transaction.
"""
