"""Prompt detectors: normalisation, multilingual lexicons, ages and language identification."""
