"""Shared test set-up: pytester for the plugin tests."""

pytest_plugins = ["pytester"]
