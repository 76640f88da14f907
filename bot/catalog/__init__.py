"""Catalogs: the model, the files (YAML and gettext), the check, the tools and the export."""
