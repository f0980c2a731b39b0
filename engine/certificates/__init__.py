"""Certificates (证照): issuing, rendering, verifying and renewing."""
