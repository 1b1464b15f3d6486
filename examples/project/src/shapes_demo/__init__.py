"""Three models as a project would have them: imported as a package (relative imports inside)."""
