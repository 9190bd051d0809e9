"""Shared helpers: money, text, time, pagination, i18n, templating."""
