"""Writes to the Datenpool. Parsers turn files into deliveries; imports write them."""
