"""JSON Schema forms: form files at upload (`schema`), form data against its form
(`validation`), the server's own limits on every value (`limits`), patterns on RE2
(`patterns`)."""

from engine.domain.form_fields import is_attachment

from .limits import InputLimits
from .schema import FormFileInvalid, load_form
from .validation import FieldError, validate_form_data

__all__ = [
    "FieldError",
    "FormFileInvalid",
    "InputLimits",
    "is_attachment",
    "load_form",
    "validate_form_data",
]
