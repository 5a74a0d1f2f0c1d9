"""Rendering: Jinja2 templates to MJML to HTML, plus text, subject and preheader.

This package is the only place that knows MJML. An edition is rendered once
with placeholders for per-recipient values (see :data:`PLACEHOLDERS`);
:func:`personalize` fills them in for one subscriber, escaping for each part.
"""
