"""The friction command line: parsing, calls to the Python API, tables, exit codes."""
