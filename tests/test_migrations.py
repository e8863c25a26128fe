"""The migrations are one straight line and build exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from mixer.extensions import db


def test_one_head_and_the_schema_matches_the_models(app):
    config = app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, "merge or re-link the migration branches"
    bases = script.get_bases()
    assert len(bases) == 1
    # The test database was built by running every migration (tests/conftest.py).
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_heads() == tuple(script.get_heads())
        assert compare_metadata(context, db.metadata) == []
