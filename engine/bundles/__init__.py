"""Bundles: a 证照联办 package of BPMN, forms and metadata, checked completely before it is stored."""
