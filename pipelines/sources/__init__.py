"""Sources besides a landing folder of contract extracts: ERP databases and mappings for
other ERP shapes, staged as a landing folder the loader reads (docs/sources.md)."""
