"""Insights: is the mentoring programme working? (``docs/insights.md``)

The programme dashboard (``/o/<org>/insights``): the funnel from registration to
pairs still meeting at 30, 60 and 90 days, the silo map of who met whom across
departments, topic gaps, events and people; the event and programme report PDFs;
CSV and XLSX exports; ``GET /api/v1/insights``. Organizers and admins only.

- ``figures.py``: the value types every section returns (``Count`` hides
  counts of fewer than five people), ``filters.py``: the dashboard's filter.
- ``funnel.py``, ``silos.py``, ``topics.py``, ``events.py``, ``people.py``: one
  section each, plain functions over the database, a fixed number of statements.
- ``scope.py``: what a filter selects, in SQL (held events, a department's
  people, months, days after an instant on SQLite and PostgreSQL alike).
- ``dashboard.py``: every section for one filter; ``cache.py`` and
  ``models.py``: its snapshot per organization and filter (stale-while-revalidate,
  kept warm by the worker).
- ``charts.py``: server-rendered SVG pictures; ``reports.py``: the PDFs;
  ``exports.py``: CSV and XLSX, streamed and spreadsheet-safe.
- ``views.py`` (pages), ``api.py`` (JSON), ``forms.py`` (the filter form).
"""
