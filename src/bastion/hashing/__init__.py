"""Hashing: PDQ (compatible with the reference), an exact radius index, banks and stay-down.

Modules: ``signals`` (hash values), ``decode`` (safe decoding), ``pdq`` (the hash),
``index`` (linear oracle and multi-index), ``model`` (banks, entries, matches), ``banks``
(the service), ``matcher`` (in-memory index fed by the change feed), ``exchange`` (hash list
formats), ``detector`` (``hash_match`` findings) and ``staydown`` (the effect).
"""
