"""Model zoo: small models with the findings pytest-convshape must report (see _verify.py)."""
