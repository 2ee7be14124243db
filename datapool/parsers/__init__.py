"""Readers of delivery files: one module per format, one shared contract.

Parsers read a file (and, for validation, the LOR key table and the catalogue)
and return a ``ParsedDelivery`` or raise ``ImportValidationError``; they never
write. ``registry`` lists the formats, ``detect`` guesses a file's format, and
``datapool.services.imports`` writes what a parser returns.
"""
