"""Where IndexTemplateProvider lived before the kind's file was named after it (``index_template.py``).

Pulumi keeps each dynamic resource's provider in state pickled by reference (module and class name), and
loads it from there to refresh or delete the resource: state written by earlier releases names this module.
"""
from providers.elasticsearch.index_template import IndexTemplateProvider

__all__ = ["IndexTemplateProvider"]
